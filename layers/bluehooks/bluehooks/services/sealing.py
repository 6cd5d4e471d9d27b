"""A webhook's custom header values at rest: packed by rules.customheaders, sealed and opened by the Vault port,
bound to their webhook (the API seals, delivery opens)."""

from bluehooks.ports import Vault
from bluehooks.rules.customheaders import packed, unpacked


def seal(vault: Vault, headers: dict[str, str], company_id: str, webhook_id: str) -> list[bytes]:
    return [vault.seal(part, company_id, webhook_id) for part in packed(headers)]


def open_all(vault: Vault, sealed: list[bytes], company_id: str, webhook_id: str) -> dict[str, str]:
    return unpacked([vault.open(part, company_id, webhook_id) for part in sealed])
