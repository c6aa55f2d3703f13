"""The command line's fleet options, apart from what runs them: parsing the
command line imports no more than its arguments."""

from __future__ import annotations


def fleet_arguments(parser) -> None:
    parser.add_argument(
        "--fleet",
        metavar="FILE|GROUP",
        help="every pool of a fleet file (YAML) or of a group of saved targets, in parallel",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="with --fleet: at most N pools at once (default 8)",
    )
    parser.add_argument(
        "--password-command",
        metavar="CMD",
        help="with --fleet: run CMD NAME URL for each pool's password "
        "(else XSTUI_PASSWORD_<NAME>, XSTUI_PASSWORD or one prompt)",
    )
