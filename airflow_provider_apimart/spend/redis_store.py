"""The spend ledger in Redis: each step one Lua script, which Redis runs atomically.

Keys share one hash tag, so a Redis Cluster keeps them on one slot and a script may touch them
all: ``{apimart-spend}:scope:<scope>`` (a hash, reservation id to ``state|amount|lease end``),
``{apimart-spend}:id:<reservation id>`` (its amount and scopes) and ``{apimart-spend}:prices``. A scope's
hash expires :data:`SCOPE_TTL_SECONDS` after its last write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_apimart.exceptions import ApimartSpendStoreError
from airflow_provider_apimart.spend.ledger import EPSILON, PENDING_LEASE_SECONDS, Admission, Limit, Usage

if TYPE_CHECKING:
    from collections.abc import Sequence

PREFIX = "{apimart-spend}"
#: A run's or a day's ledger is kept this long after it last changed (then Redis drops it).
SCOPE_TTL_SECONDS = 90 * 86_400

#: Sums a scope's hash: settled spend, and reservations still counting (a lapsed lease is dropped).
_SUM = """
local function sum(key, now)
  local spent, reserved = 0, 0
  local rows = redis.call('HGETALL', key)
  for i = 1, #rows, 2 do
    local state, amount, lease = string.match(rows[i + 1], '^(%a+)|([^|]+)|(.*)$')
    amount = tonumber(amount)
    if state == 'settled' then spent = spent + amount
    elseif state == 'held' or tonumber(lease) > now then reserved = reserved + amount
    else redis.call('HDEL', key, rows[i]) end
  end
  return spent, reserved
end
"""
#: KEYS: the scopes' hashes, then the id's key. ARGV: id, amount, now, lease, ttl, epsilon, then one
#: limit per scope, then the scopes' names (kept under the id's key for mark_held and settle).
RESERVE = (
    _SUM
    + """
local id, amount, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lease, ttl, epsilon = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local n = #KEYS - 1
local figures, already = {}, false
for i = 1, n do
  local row = redis.call('HGET', KEYS[i], id)
  if row then
    already = true
    local state, held = string.match(row, '^(%a+)|([^|]+)|')
    if state == 'pending' then redis.call('HSET', KEYS[i], id, 'pending|' .. held .. '|' .. (now + lease)) end
  end
end
for i = 1, n do
  local spent, reserved = sum(KEYS[i], now)
  figures[#figures + 1] = tostring(spent)
  figures[#figures + 1] = tostring(reserved)
  if not already and spent + reserved + amount > tonumber(ARGV[6 + i]) + epsilon then
    return {'refused', tostring(i), unpack(figures)}
  end
end
if already then return {'already', '0', unpack(figures)} end
figures = {}
local names = {}
for i = 1, n do
  redis.call('HSET', KEYS[i], id, 'pending|' .. ARGV[2] .. '|' .. (now + lease))
  redis.call('EXPIRE', KEYS[i], ttl)
  names[#names + 1] = ARGV[6 + n + i]
  local spent, reserved = sum(KEYS[i], now)
  figures[#figures + 1] = tostring(spent)
  figures[#figures + 1] = tostring(reserved)
end
redis.call('SET', KEYS[n + 1], ARGV[2] .. '\\n' .. table.concat(names, '\\n'), 'EX', ttl)
return {'admitted', '0', unpack(figures)}
"""
)
#: KEYS: the id's scope hashes. ARGV: id, new state, amount, ttl. A row a lapsed lease dropped is
#: written again: the job was submitted after all, and its cost must count.
MOVE = """
for i, key in ipairs(KEYS) do
  local row = redis.call('HGET', key, ARGV[1])
  local state = row and string.match(row, '^(%a+)|') or nil
  if ARGV[2] == 'settled' or state == nil or state == 'pending' then
    redis.call('HSET', key, ARGV[1], ARGV[2] .. '|' .. ARGV[3] .. '|')
    redis.call('EXPIRE', key, tonumber(ARGV[4]))
  end
end
return 1
"""
USAGE = (
    _SUM
    + """
local figures = {}
for i, key in ipairs(KEYS) do
  local spent, reserved = sum(key, tonumber(ARGV[1]))
  figures[#figures + 1] = tostring(spent)
  figures[#figures + 1] = tostring(reserved)
end
return figures
"""
)
LEARN = """
local known = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > known then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


class RedisSpendStore:
    """The ledger in one Redis database (``redis.Redis`` from an Airflow connection)."""

    def __init__(self, client: Any, description: str) -> None:
        self.description = description
        self._client = client
        self._reserve = client.register_script(RESERVE)
        self._move = client.register_script(MOVE)
        self._usage = client.register_script(USAGE)
        self._learn = client.register_script(LEARN)

    def reserve(
        self, reservation_id: str, limits: Sequence[Limit], amount: float, *, now: float
    ) -> Admission:
        scopes = [limit.scope for limit in limits]
        answer = self._call(
            self._reserve,
            [*(_key(scope) for scope in scopes), _id_key(reservation_id)],
            [reservation_id, repr(amount), repr(now), PENDING_LEASE_SECONDS, SCOPE_TTL_SECONDS, EPSILON]
            + [repr(limit.amount) for limit in limits]
            + scopes,
        )
        outcome, refused, *figures = (_text(item) for item in answer)
        usage = _figures(scopes, figures)
        if outcome == "refused":
            return Admission(False, usage, refused_by=limits[int(refused) - 1])
        return Admission(True, usage, already_reserved=outcome == "already")

    def mark_held(self, reservation_id: str) -> None:
        reserved = self._reserved(reservation_id)
        if reserved is not None:
            amount, keys = reserved
            self._call(self._move, keys, [reservation_id, "held", amount, SCOPE_TTL_SECONDS])

    def settle(self, reservation_id: str, cost: float | None) -> None:
        reserved = self._reserved(reservation_id)
        if reserved is not None:
            amount, keys = reserved
            kept = amount if cost is None else repr(cost)
            self._call(self._move, keys, [reservation_id, "settled", kept, SCOPE_TTL_SECONDS])

    def _reserved(self, reservation_id: str) -> tuple[str, list[str]] | None:
        """The amount and the scopes' keys ``reserve`` wrote under the id (never changed after)."""
        stored = self._call(lambda keys, args: self._client.get(keys[0]), [_id_key(reservation_id)], [])
        if not stored:
            return None
        amount, *scopes = _text(stored).split("\n")
        return amount, [_key(scope) for scope in scopes]

    def usage(self, scopes: Sequence[str], *, now: float) -> dict[str, Usage]:
        figures = self._call(self._usage, [_key(scope) for scope in scopes], [repr(now)])
        return _figures(list(scopes), [_text(item) for item in figures])

    def learn_price(self, signature: str, cost: float) -> None:
        self._call(self._learn, [f"{PREFIX}:prices"], [signature, repr(cost)])

    def learned_price(self, signature: str) -> float | None:
        value = self._call(
            lambda keys, args: self._client.hget(keys[0], args[0]), [f"{PREFIX}:prices"], [signature]
        )
        return float(_text(value)) if value is not None else None

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except Exception as error:  # redis.exceptions.RedisError and socket errors alike
            raise ApimartSpendStoreError(f"The spend store ({self.description}) failed: {error}") from error


def _key(scope: str) -> str:
    return f"{PREFIX}:scope:{scope}"


def _id_key(reservation_id: str) -> str:
    return f"{PREFIX}:id:{reservation_id}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _figures(scopes: list[str], figures: list[str]) -> dict[str, Usage]:
    return {
        scope: Usage(float(figures[2 * index]), float(figures[2 * index + 1]))
        for index, scope in enumerate(scopes)
    }
