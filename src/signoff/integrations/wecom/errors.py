"""Why a WeCom callback, or the WeCom configuration, was refused.

Every error of the callback is an `Invalid` (bad input that can never be accepted as it
is) with a stable `code`. Messages name what was wrong but never echo a secret: neither
the Token, nor the EncodingAESKey, nor the signature we expected.

    WecomError              wecom_error
      BadKey                wecom_bad_key               unusable credentials configured
      CallbackRejected      wecom_callback_rejected     a request that must not be processed
        SignatureMismatch   wecom_signature_mismatch
        ReceiveIdMismatch   wecom_receive_id_mismatch   signed, but for another corp/suite
        BadCiphertext       wecom_bad_ciphertext        base64, length, padding, length prefix
        StaleTimestamp      wecom_stale_timestamp       unreadable or outside the window
        ReplayedNonce       wecom_replayed_nonce
        MalformedXml        wecom_malformed_xml         syntax, DTD/entities, a missing path
      UnknownWecomUser      wecom_unknown_user          a user id the directory cannot map

Configuration and the WeCom API (signoff.integrations.wecom.config, .api):

    WecomNotConfigured      wecom_not_configured        (NotFound) the app has no WeCom settings
    WecomApiUnavailable     wecom_api_unavailable       (Conflict) WeCom's API did not answer
                                                        well; the callback is answered with
                                                        an error so that WeCom sends it again
"""

from __future__ import annotations

from signoff.domain.errors import Conflict, Invalid, NotFound, Problem


class WecomError(Invalid):
    """Root of the WeCom integration's errors."""

    code = "wecom_error"


class BadKey(WecomError):
    """The EncodingAESKey (or the Token or receive id) configured for the app cannot be used."""

    code = "wecom_bad_key"


class CallbackRejected(WecomError):
    """A callback request that must not be processed; answer it with an error, act on nothing."""

    code = "wecom_callback_rejected"


class SignatureMismatch(CallbackRejected):
    """`msg_signature` is not SHA-1(sorted(token, timestamp, nonce, ciphertext))."""

    code = "wecom_signature_mismatch"


class ReceiveIdMismatch(CallbackRejected):
    """The decrypted message ends with another receive id (corp id / suite id) than ours."""

    code = "wecom_receive_id_mismatch"


class BadCiphertext(CallbackRejected):
    """The ciphertext is not base64, not whole 32-byte blocks, or decrypts to a bad layout."""

    code = "wecom_bad_ciphertext"


class StaleTimestamp(CallbackRejected):
    """The request's timestamp is missing, not a number, or too far from now."""

    code = "wecom_stale_timestamp"


class ReplayedNonce(CallbackRejected):
    """This (nonce, timestamp) was already accepted inside the freshness window."""

    code = "wecom_replayed_nonce"


class MalformedXml(CallbackRejected):
    """XML that cannot be parsed, that declares a DTD or entities, or lacks a required path."""

    code = "wecom_malformed_xml"

    def __init__(self, path: str, rule: str, message: str) -> None:
        super().__init__(
            f"{path}: {message}" if path else message,
            [Problem(path, rule, message)],
            path=path,
        )


class UnknownWecomUser(WecomError):
    """A WeCom user id that maps to no principal of the directory (import them first)."""

    code = "wecom_unknown_user"

    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(
            "WeCom users unknown to the directory: " + ", ".join(user_ids),
            [Problem(u, "unknown_user", "maps to no principal") for u in user_ids],
            user_ids=user_ids,
        )


class WecomNotConfigured(NotFound):
    code = "wecom_not_configured"


class WecomApiUnavailable(Conflict):
    code = "wecom_api_unavailable"
