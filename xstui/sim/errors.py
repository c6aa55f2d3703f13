"""API failures as XAPI raises them: a code and string parameters."""


class DropConnection(Exception):
    """Fault injection: the server closes the connection without a reply."""


class XapiError(Exception):
    """Becomes ``{Status: Failure, ErrorDescription: [code, *params]}`` on the wire."""

    def __init__(self, code: str, *params):
        super().__init__(code, *params)
        self.code = code
        self.params = [str(p) for p in params]

    @property
    def description(self) -> list[str]:
        return [self.code, *self.params]
