"""Failed sign-ins, counted per account name and per client address, in bounded memory.

Password guessing is slowed two ways: one account guessed from many addresses, and one
address guessing many accounts. Each key keeps the times of its recent failures inside
a sliding window; at the limit the key is refused until its oldest failure leaves the
window, and the answer says how long (``Retry-After``). The account key is the *name as
typed*, whether or not such a user exists, so a locked unknown name answers exactly as
a locked real one and nobody learns which names exist. A success clears the account's
failures (not the address's: one right password must not reset a spray).

Memory is bounded: at most ``max_keys`` keys per kind, the least recently failed
evicted first, and at most ``limit`` timestamps per key. The counts live in the process
(one server process per registry is the supported deployment; a restart forgets them,
which costs an attacker a restart they cannot cause).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Window:
    """Failures of one kind of key: at most ``limit`` within ``seconds``."""

    limit: int
    seconds: float
    max_keys: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _keys: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._keys.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.seconds:
            times.popleft()
        if not times:
            del self._keys[key]
            return None
        return times

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = self.clock()
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return 0
        return max(1, int(times[0] + self.seconds - now + 0.999))

    def fail(self, key: str) -> None:
        now = self.clock()
        times = self._recent(key, now) or deque(maxlen=self.limit)
        times.append(now)
        self._keys[key] = times
        self._keys.move_to_end(key)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)

    def clear(self, key: str) -> None:
        self._keys.pop(key, None)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class LoginLimiter:
    """The two windows behind the sign-in form (thread-safe: routes run on threads)."""

    account: Window = field(default_factory=lambda: Window(limit=5, seconds=900))
    address: Window = field(default_factory=lambda: Window(limit=20, seconds=900))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _name(name: str) -> str:
        # case and surrounding space do not make a new account to guess against
        return name.strip().lower()[:64]

    def retry_after(self, name: str, address: str) -> int:
        with self._lock:
            return max(self.account.retry_after(self._name(name)),
                       self.address.retry_after(address))

    def failed(self, name: str, address: str) -> int:
        """Count a failure; the wait it now imposes (0 while still under the limits)."""
        with self._lock:
            self.account.fail(self._name(name))
            self.address.fail(address)
            return max(self.account.retry_after(self._name(name)),
                       self.address.retry_after(address))

    def succeeded(self, name: str) -> None:
        with self._lock:
            self.account.clear(self._name(name))
