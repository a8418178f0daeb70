"""Sign-in throttling: failed attempts slow the next ones down, by client address and by account;
no one can lock an account for good, and the answers never tell which accounts exist.

Every failed password (a portal's sign-in, the token endpoint's password grant) and every failed
client secret counts, in Redis so that it holds across processes and machines, against three
counters, each remembered for its `window` after the last failure:

- the account from that address (PAIR): the guesser's own back-off. After `free` failures each
  further one makes that address wait before it may try that account again, from `first`
  seconds, doubling with each failure, up to `longest`. The owner, elsewhere, is not slowed down.
- the address (ADDRESS), whatever the accounts: one address spraying guesses over many accounts.
- the account from anywhere (ACCOUNT): a guess spread over many addresses; its numbers are high and
  its longest wait short, so that what a stranger can do to the owner is a pause of seconds.

The account is the email or client id as typed (normalised, hashed), known or not, so an unknown
account is answered exactly as a known one. While a wait runs, an attempt is refused before any
password is checked (TooManyAttempts, 429 with Retry-After) and does not count. A success clears the
account's counters, not the address's. (The token endpoint also takes at most
AUTH_TOKEN_REQUESTS_PER_MINUTE requests a minute from one address, failed or not:
web.ratelimit.check_token_requests.) Without Redis the throttle lapses, with a warning now and
then: signing in matters more than slowing guesses.
"""
from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from flask import current_app
from redis import RedisError

from core.caching import WarnNowAndThen
from core.errors import TooManyAttempts
from core.queues import redis_client

log = logging.getLogger(__name__)
_unreachable = WarnNowAndThen(log)

MESSAGE = "Too many sign-in attempts; try again in {seconds} seconds."


@dataclass(frozen=True)
class Policy:
    name: str
    free: int       # failures without a wait
    first: int      # the first wait, seconds; each further failure doubles it
    longest: int    # the longest wait, seconds
    window: int     # seconds a failure is remembered after the last one


PAIR = Policy("pair", free=5, first=30, longest=900, window=900)
ADDRESS = Policy("address", free=20, first=30, longest=900, window=900)
ACCOUNT = Policy("account", free=50, first=5, longest=60, window=900)

# KEYS[1] the failures, KEYS[2] the wait; ARGV: window, free, first, longest. Counts one failure
# and starts the wait it earns; returns the wait's seconds (0: none yet).
_FAIL = """
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local over = failures - tonumber(ARGV[2])
if over <= 0 then return 0 end
local wait = math.min(tonumber(ARGV[3]) * 2 ^ (over - 1), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], 1, 'EX', math.floor(wait))
return wait
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _counters(account: str, address: str | None) -> list[tuple[Policy, str]]:
    """(policy, subject) of each counter an attempt on `account` from `address` counts against."""
    account = _digest(account.strip().lower())
    address = _digest(address or "unknown")
    return [(PAIR, f"{account}:{address}"), (ADDRESS, address), (ACCOUNT, account)]


def deployment() -> str:
    """A name of this deployment's accounts: they belong to its control database, and deployments
    (or tests) sharing one Redis count apart."""
    config = current_app.config
    name = config.get("_ACCOUNTS_DIGEST")
    if name is None:
        name = config["_ACCOUNTS_DIGEST"] = _digest(config["SQLALCHEMY_DATABASE_URI"])[:12]
    return name


def _keys(policy: Policy, subject: str) -> tuple[str, str]:
    prefix = f"storefleet:signin:{deployment()}:"
    return f"{prefix}{policy.name}:{subject}:failures", f"{prefix}{policy.name}:{subject}:wait"


def _refuse(seconds: float) -> TooManyAttempts:
    seconds = max(1, math.ceil(seconds))
    return TooManyAttempts(MESSAGE.format(seconds=seconds), retry_after=seconds)


def check(account: str, address: str | None) -> None:
    """TooManyAttempts while any wait runs for an attempt on `account` from `address`."""
    try:
        with redis_client().pipeline(transaction=False) as batch:
            for policy, subject in _counters(account, address):
                batch.pttl(_keys(policy, subject)[1])
            waits = batch.execute()
    except RedisError as exc:
        _unreachable.warning("Sign-in attempts are not throttled: Redis cannot be reached: %s", exc)
        return
    longest = max(waits)
    if longest > 0:
        raise _refuse(longest / 1000)


def failed(account: str, address: str | None) -> None:
    """Count a failed attempt on `account` from `address`; the waits it earns start now."""
    try:
        fail = redis_client().register_script(_FAIL)
        with redis_client().pipeline(transaction=False) as batch:
            for policy, subject in _counters(account, address):
                fail(keys=_keys(policy, subject), client=batch,
                     args=[policy.window, policy.free, policy.first, policy.longest])
            batch.execute()
    except RedisError as exc:
        _unreachable.warning("A failed sign-in was not counted: Redis cannot be reached: %s", exc)


def succeeded(account: str, address: str | None) -> None:
    """A right password: the account's failures (from this address and from anywhere) are forgiven."""
    try:
        counters = [counter for counter in _counters(account, address) if counter[0] is not ADDRESS]
        redis_client().delete(*(key for policy, subject in counters for key in _keys(policy, subject)))
    except RedisError as exc:
        _unreachable.warning("A sign-in's earlier failures were not cleared: Redis cannot be reached: %s", exc)
