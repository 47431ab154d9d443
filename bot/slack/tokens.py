"""Slack tokens at rest: every bot, user and refresh token in slack_sdk's installation tables is
encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

TOKEN_ENCRYPTION_KEYS lists one or more keys. The first encrypts; every one decrypts (MultiFernet),
so a new key goes first and the old one stays second until `python -m bot reseal-tokens` has
encrypted every row under the new key. Rows are otherwise re-encrypted whenever they are saved
(an install, a token rotation)."""

from __future__ import annotations

from collections.abc import Sequence
from logging import Logger

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from models.slack_oauth import TOKEN_COLUMNS, bots, installations

UNREADABLE = (
    "a stored Slack token does not decrypt with any key in TOKEN_ENCRYPTION_KEYS "
    "(was the key it was encrypted with removed?)"
)


class TokenUnreadable(RuntimeError):
    """A stored token does not decrypt with any key of TOKEN_ENCRYPTION_KEYS."""


class TokenCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("TOKEN_ENCRYPTION_KEYS is empty")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise TokenUnreadable(UNREADABLE) from None

    def reseal(self, sealed: str | None) -> str | None:
        """The same token, encrypted under the first key."""
        if sealed is None:
            return None
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise TokenUnreadable(UNREADABLE) from None


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's SQLAlchemy store with the tokens encrypted: saving encrypts, finding decrypts.

    A wrapper, not a subclass: SQLAlchemyInstallationStore.save calls self.save_bot, which in a
    subclass would encrypt the bot's tokens a second time."""

    def __init__(self, store: SQLAlchemyInstallationStore, cipher: TokenCipher) -> None:
        self.store = store
        self.cipher = cipher

    @property
    def logger(self) -> Logger:
        return self.store.logger

    def save(self, installation: Installation) -> None:
        sealed = Installation(**installation.to_dict_for_copying())
        for name in TOKEN_COLUMNS[installations.name]:
            setattr(sealed, name, self.cipher.seal(getattr(installation, name)))
        self.store.save(sealed)

    def save_bot(self, bot: Bot) -> None:
        self.store.save_bot(self._bot_with(bot, self.cipher.seal))

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        bot = self.store.find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return None if bot is None else self._bot_with(bot, self.cipher.open)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = self.store.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None:
            return None
        # Decrypted in place: the object is ours (built from the row), and copying it through
        # to_dict_for_copying would drop what find_installation merged in from the latest bot.
        for name in TOKEN_COLUMNS[installations.name]:
            setattr(installation, name, self.cipher.open(getattr(installation, name)))
        return installation

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.store.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    @staticmethod
    def _bot_with(bot: Bot, transform) -> Bot:
        copy = Bot(**bot.to_dict_for_copying())
        for name in TOKEN_COLUMNS[bots.name]:
            setattr(copy, name, transform(getattr(bot, name)))
        return copy


def reseal_all(engine: Engine, cipher: TokenCipher) -> int:
    """Encrypt every stored token under the first key (after a new key was put first); returns
    how many rows changed. Each table is done in one transaction."""
    changed = 0
    for table in (installations, bots):
        names = TOKEN_COLUMNS[table.name]
        with engine.begin() as connection:
            rows = connection.execute(select(table.c.id, *(table.c[name] for name in names))).all()
            for row in rows:
                values = {name: cipher.reseal(getattr(row, name)) for name in names}
                if any(getattr(row, name) is not None for name in names):
                    connection.execute(update(table).where(table.c.id == row.id).values(**values))
                    changed += 1
    return changed
