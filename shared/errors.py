"""The one error the domain raises for input that breaks a rule."""


class InputError(ValueError):
    """`field` names the form field or API property; `message` is already translated."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
