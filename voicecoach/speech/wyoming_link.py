"""Talking to a Wyoming server (the Home Assistant voice stack's protocol) on the home network: the
`wyoming://HOST:PORT[/NAME]` address, one request over one TCP connection under a deadline, the
server's `describe` info, and the failover policy the remote engines share (the local engine after a
fault, said once; the server again when a background probe finds it answering).

Nothing here opens a socket unless the user named a server: the module is imported only then.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from voicecoach.errors import ModelError

log = logging.getLogger(__name__)

SCHEME = "wyoming://"
CONNECT_TIMEOUT = 1.5  # seconds: a server on the home network answers a connection in milliseconds
DESCRIBE_TIMEOUT = 2.0  # seconds for a whole Describe → Info exchange (startup, probes, listings)
RETRY_SECONDS = 3.0  # the background probe's pace while the server is down
MAX_RETRY_SECONDS = 30.0  # a server that keeps failing right after it answers a probe is probed less often
MAX_EVENTS = 100_000  # replies longer than this are nonsense, not audio (an hour of 1024-sample chunks)
ADDRESS_HINT = "write it as wyoming://HOST:PORT (e.g. wyoming://192.168.1.5:10300), with /VOICE for a voice"


T = TypeVar("T")


class WyomingError(Exception):
    """A fault talking to the server: refused, timed out, dropped, or a reply that makes no sense."""


@dataclass(frozen=True)
class WyomingAddress:
    """A Wyoming server, and for a voice the server's voice to ask for (None: the server's default)."""

    host: str
    port: int
    name: str | None = None

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{SCHEME}{self.where}" + (f"/{self.name}" if self.name else "")


def is_wyoming(text: str | None) -> bool:
    """True for a `wyoming://...` value (of --engine or --voice)."""
    return bool(text) and text.strip().lower().startswith(SCHEME)  # type: ignore[union-attr]


def parse_address(text: str, allow_name: bool = True) -> WyomingAddress:
    """`wyoming://HOST:PORT[/NAME]` as an address; ModelError saying what is wrong otherwise."""
    from urllib.parse import unquote, urlsplit

    raw = text.strip()
    if not is_wyoming(raw):
        raise ModelError(f"{text!r} is not a Wyoming server address", ADDRESS_HINT)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as error:
        raise ModelError(f"{text!r} is not a Wyoming server address ({error})", ADDRESS_HINT) from None
    if not parts.hostname or port is None or port == 0:
        raise ModelError(f"{text!r} needs a host and a port", ADDRESS_HINT)
    name = unquote(parts.path.strip("/")) or None
    if name is not None and not allow_name:
        raise ModelError(f"{text!r}: a recognizer address takes no /NAME", "write it as wyoming://HOST:PORT")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ModelError(f"{text!r} has parts a Wyoming address does not take", ADDRESS_HINT)
    return WyomingAddress(parts.hostname, port, name)


class _LineWatcher:
    """The socket's reader, remembering whether the last event line had bytes: wyoming's read_event
    answers None both for a closed connection and for a line that is not an event."""

    def __init__(self, reader) -> None:
        self._reader = reader
        self.last_line = b""

    def readline(self, *args) -> bytes:
        self.last_line = self._reader.readline(*args)
        return self.last_line

    def read(self, *args) -> bytes:
        return self._reader.read(*args)


class Exchange:
    """One request: a TCP connection to the server that is cut at `deadline` seconds whatever happens
    (a watchdog shuts the socket, so a server that trickles bytes cannot stretch it), with at most
    `idle` seconds between two events read."""

    def __init__(self, address: WyomingAddress, deadline: float, idle: float | None = None) -> None:
        self.address = address
        self._started = time.monotonic()
        self._deadline = deadline
        self._idle = idle or deadline
        self._cut = False
        try:
            self._socket = socket.create_connection((address.host, address.port),
                                                    timeout=min(CONNECT_TIMEOUT, deadline))
        except socket.timeout:
            raise WyomingError(f"no connection within {min(CONNECT_TIMEOUT, deadline):.1f} s") from None
        except OSError as error:
            raise WyomingError(_os_reason(error)) from None
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._watchdog = threading.Timer(deadline, self._cut_off)
        self._watchdog.daemon = True
        self._watchdog.start()
        self._writer = self._socket.makefile("wb")
        self._reader = _LineWatcher(self._socket.makefile("rb"))

    def _cut_off(self) -> None:
        self._cut = True
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _remaining(self) -> float:
        return self._deadline - (time.monotonic() - self._started)

    def _timed_out(self) -> WyomingError:
        return WyomingError(f"no answer within {self._deadline:.1f} s")

    def send(self, event) -> None:
        """Send a wyoming Event (or anything with .event())."""
        from wyoming.event import write_event

        if self._cut:
            raise self._timed_out()
        try:
            self._socket.settimeout(max(0.01, self._remaining()))
            write_event(event if hasattr(event, "type") else event.event(), self._writer)
        except (OSError, ValueError) as error:
            raise (self._timed_out() if self._cut or isinstance(error, socket.timeout)
                   else WyomingError(f"the connection dropped while sending ({_os_reason(error)})")) from None

    def receive(self):
        """The next event from the server; WyomingError if it closed, stalled or sent nonsense."""
        from wyoming.event import read_event

        if self._cut:
            raise self._timed_out()
        try:
            self._socket.settimeout(max(0.01, min(self._idle, self._remaining())))
            event = read_event(self._reader)  # type: ignore[arg-type]
        except socket.timeout:
            raise (self._timed_out() if self._cut or self._remaining() <= 0.05
                   else WyomingError(f"the server went silent for {self._idle:.1f} s")) from None
        except (OSError, ValueError) as error:
            raise (self._timed_out() if self._cut
                   else WyomingError(f"the connection dropped ({_os_reason(error)})")) from None
        if event is None:
            if self._cut:
                raise self._timed_out()
            if self._reader.last_line.strip():
                raise WyomingError(f"the reply is not a Wyoming event: {_shorten(self._reader.last_line)}")
            raise WyomingError("the server closed the connection before answering")
        if not isinstance(event.type, str) or not isinstance(event.data, dict):
            raise WyomingError("the reply is not a Wyoming event")
        return event

    def close(self) -> None:
        self._watchdog.cancel()
        for stream in (self._writer, self._reader._reader):
            try:
                stream.close()
            except OSError:
                pass
        self._socket.close()

    def __enter__(self) -> "Exchange":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _os_reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _shorten(raw: bytes, limit: int = 60) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def describe(address: WyomingAddress, timeout: float = DESCRIBE_TIMEOUT):
    """The server's wyoming Info (what it offers); WyomingError when it does not answer with one."""
    from wyoming.info import Describe, Info

    with Exchange(address, timeout) as exchange:
        exchange.send(Describe())
        for _ in range(16):  # a server may send something else first; an Info must follow soon
            event = exchange.receive()
            if Info.is_type(event.type):
                try:
                    return Info.from_event(event)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    raise WyomingError(f"its describe info is malformed ({error!r})") from None
    raise WyomingError("it did not answer describe with its info")


def offer_lines(info, side: str, language: str = "") -> list[str]:
    """What the server offers on `side` ("asr" or "tts"), one line per program and its models/voices
    (with `language`, only the voices for it)."""
    lines: list[str] = []
    for program in getattr(info, side, []) or []:
        state = "" if getattr(program, "installed", True) else " (not installed)"
        version = f" {program.version}" if getattr(program, "version", None) else ""
        lines.append(f"{program.name}{version}{state}: {program.description or ''}".rstrip(": "))
        items = (program.models if side == "asr" else program.voices) or []
        if language and side == "tts":
            items = [i for i in items if any(lang.lower().startswith(language) for lang in i.languages or ())]
        for item in items:
            if not getattr(item, "installed", True):
                continue
            languages = ", ".join(item.languages[:6]) + (" …" if len(item.languages) > 6 else "")
            lines.append(f"  {item.name}" + (f" [{languages}]" if languages else ""))
        missing = sum(1 for item in items if not getattr(item, "installed", True))
        if missing:
            lines.append(f"  (and {missing} more it lists as not installed)")
    return lines


def describe_json(info) -> str:
    """The Info as compact JSON (for logs)."""
    return json.dumps(info.event().data, ensure_ascii=False)[:2000]


class LocalFallback(Generic[T]):
    """The local engine a Wyoming engine falls back on: built once, in the background when preloaded (so the
    first fault does not wait for a model to load), or when first asked for. Built at normal priority: an
    engine's worker threads inherit the niceness of the thread that makes them, and a niced load left every
    later local decode niced too (and a fault waited up to 30 s for a starved load on a busy machine)."""

    def __init__(self, build: Callable[[], T] | None, what: str, preload: bool) -> None:
        self.build = build
        self.engine: T | None = None
        self._what = what
        self._ready = threading.Event()
        self._lock = threading.Lock()
        if build is None:
            self._ready.set()
        elif preload:
            threading.Thread(target=self._load, daemon=True, name=f"voicecoach-local-{what}").start()

    def get(self) -> T | None:
        """The local engine (waits for a preload under way, or builds it now); None if it cannot be built."""
        self._load()
        return self.engine

    def _load(self) -> None:
        with self._lock:
            if self._ready.is_set():
                return
            try:
                self.engine = self.build() if self.build is not None else None
            except Exception as error:  # a broken local model must not take the session down with it
                log.warning("no local %s to fall back on: %s", self._what, error)
            finally:
                self._ready.set()


class Failover:
    """Which side serves a request: the server while it answers. After a fault the local engine does,
    with one notice; a background probe (every RETRY_SECONDS) hands back to the server when it answers
    again, with one notice. The probe is a real small request (`probe`, raising WyomingError), not only
    a Describe: a server that answers Describe but not requests stays down. One that fails again straight
    after coming back is probed less and less often (up to MAX_RETRY_SECONDS)."""

    def __init__(self, address: WyomingAddress, role: str, notice: Callable[[str], None],
                 retry_seconds: float = RETRY_SECONDS, probe_timeout: float = DESCRIBE_TIMEOUT,
                 probe: Callable[[], object] | None = None) -> None:
        self.address = address
        self._probe_request = probe or (lambda: describe(address, probe_timeout))
        self.role = role  # "recognizer" or "voice", for the notices
        self._notice = notice
        self.retry_seconds = retry_seconds
        self.probe_timeout = probe_timeout
        self._up = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._probe: threading.Thread | None = None
        self._relapses = 0  # outages in a row with no request served between them
        self.outages = 0
        self.returns = 0

    @property
    def server_up(self) -> bool:
        return self._up

    def attempt(self, request: Callable[[], T], local: str) -> T | None:
        """`request()`'s answer while the server is up; None when it is down or has just failed (then the
        caller asks its local engine, named `local` in the notice)."""
        if not self.server_up:
            return None
        try:
            answer = request()
        except WyomingError as error:
            self.failed(error, local)
            return None
        self.succeeded()
        return answer

    def succeeded(self) -> None:
        self._relapses = 0

    def failed(self, error: WyomingError | str, local: str) -> None:
        """The server failed a request: use `local` until a probe finds it again (said once)."""
        with self._lock:
            if not self._up:
                return
            self._up = False
            self.outages += 1
            self._relapses += 1
            wait = min(MAX_RETRY_SECONDS, self.retry_seconds * 2 ** (self._relapses - 1))
        message = (f"the Wyoming server at {self.address.where} failed ({error}): the {self.role} uses "
                   f"{local} until it answers again (retrying every {wait:g} s)")
        log.info(message)  # the notice is the user's line; the log keeps it for -v
        self._notice(message)
        self._probe = threading.Thread(target=self._probe_until_back, args=(wait,), daemon=True,
                                       name=f"voicecoach-wyoming-{self.role}-probe")
        self._probe.start()

    def _probe_until_back(self, wait: float) -> None:
        while not self._stop.wait(wait):
            try:
                self._probe_request()
            except WyomingError as error:
                log.debug("Wyoming server at %s still down: %s", self.address.where, error)
                continue
            with self._lock:
                self._up = True
                self.returns += 1
            message = f"the Wyoming server at {self.address.where} answers again: the {self.role} uses it again"
            log.info(message)
            self._notice(message)
            return

    def close(self) -> None:
        self._stop.set()
        if self._probe is not None and self._probe is not threading.current_thread():
            self._probe.join(self.probe_timeout + 1)
