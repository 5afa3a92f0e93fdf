"""Which models a deployment offers, to whom, and whether a session may still answer with its own.

The deployment offers ``settings.offered_models`` (MODELS; the default first); ADMIN_MODELS are
for administrators only. A session records the model it was created with and keeps answering
with it; when that model is withdrawn (or becomes admin-only for a user who is not an admin)
the session is read-only (:meth:`ModelOffer.refusal`).
"""

from __future__ import annotations

from assistant.chat.events import ModelChoiceError
from assistant.config import Settings
from assistant.models.registry import ModelNameError, canonical_model_name, describe_model
from assistant.sessions.base import SessionMeta


def model_key(name: str) -> str | None:
    """The registry's canonical name for ``name``, or None when it names no model."""
    try:
        return canonical_model_name(name)
    except ModelNameError:
        return None


CONTINUE_ADVICE = "Continue in a new session to carry on with the same context."
"""The page's way on from a session whose model is no longer offered (its button; the CLI has none)."""


def model_label(name: str) -> str:
    """How a model is named to a user (its registry label; an unknown name as it is)."""
    return describe_model(name).label if model_key(name) is not None else name


class ModelOffer:
    """The models offered here (MODELS) and the admin-only ones (ADMIN_MODELS).

    Args:
        settings: Application settings (``offered_models``, ``admin_models``, ``model_name``).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default = settings.model_name
        self._offered = {canonical_model_name(name): name for name in settings.offered_models}
        self._admin_only = {canonical_model_name(name) for name in settings.admin_models}

    @property
    def offered(self) -> tuple[str, ...]:
        """The registry names this deployment offers, the default first."""
        return tuple(self._offered.values())

    def offered_name(self, name: str) -> str | None:
        """The offered registry name ``name`` stands for (None when it is not offered)."""
        key = model_key(name)
        return None if key is None else self._offered.get(key)

    def is_admin_only(self, name: str) -> bool:
        """Whether only ADMIN_EMAILS users may pick this model."""
        return model_key(name) in self._admin_only

    def models_for(self, user_email: str | None) -> list[str]:
        """The models this user may pick for a new session, the default first (admins: every one)."""
        admin = self.settings.is_admin(user_email)
        return [name for key, name in self._offered.items() if admin or key not in self._admin_only]

    def choose(self, model: str | None, user_email: str | None) -> str:
        """The registry name a new session of this user answers with (None: the default).

        Raises:
            ModelChoiceError: The model is not offered, or is admin-only and the user is not an admin.
        """
        if model is None:
            return self.default
        key = model_key(model)
        if key is None or key not in self._offered:
            raise ModelChoiceError(f"{model} is not one of the models offered here ({', '.join(self.offered)}).")
        if key in self._admin_only and not self.settings.is_admin(user_email):
            raise ModelChoiceError(f"{describe_model(model).label} is only for administrators; pick another model.")
        return self._offered[key]

    def refusal(self, meta: SessionMeta) -> str | None:
        """Why this session may not take new turns with its recorded model, or None when it may."""
        name = meta.model or self.default
        key = model_key(name)
        label = model_label(name)
        if key is None or key not in self._offered:
            why = f"This session answers with {label}, which is no longer offered here"
        elif key in self._admin_only and not self.settings.is_admin(meta.user_email):
            why = f"This session answers with {label}, which is now only for administrators"
        else:
            return None
        return f"{why}, so it is read-only. {CONTINUE_ADVICE}"

    def check_same(self, requested: str, recorded: str | None) -> None:
        """Refuse naming another model than the session's own for a turn of an existing session.

        Raises:
            ModelChoiceError: ``requested`` is not the session's recorded model.
        """
        recorded = recorded or self.default
        if model_key(requested) != model_key(recorded):
            raise ModelChoiceError(
                f"This session answers with {model_label(recorded)}; "
                f"start a new session to ask {model_label(requested)}."
            )
