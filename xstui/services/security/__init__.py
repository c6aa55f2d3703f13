"""Security (RECIPES.md section 7): the root password and, when it is lost,
the way back for the host's bootloader."""

from .password import ChangeRootPassword, Guide, guide_text, recovery_guide, strength_hints

__all__ = ["ChangeRootPassword", "Guide", "guide_text", "recovery_guide", "strength_hints"]
