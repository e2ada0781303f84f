"""The services a request works with: one ``functions.services.Services`` per app configuration.

The Functions worker keeps the process alive between invocations, so the services of a configuration
are kept and reused (module-level, keyed by the frozen ``AppConfig``; a changed app setting gives a new
key): the tables are created once, the Dataverse client and the run queue client built once. Nothing
here touches the network: ``Services`` builds each part on first use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from functions.config import AppConfig, load_config
from functions.services import Services

__all__ = ["clear_cache", "load_services", "services_for"]

_MAX_CACHED = 8  # configs; tests start many Azurite/emulator pairs, a deployed app has one
_cache: OrderedDict[AppConfig, Services] = OrderedDict()
_cache_lock = threading.Lock()


def services_for(config: AppConfig) -> Services:
    """The services of ``config``, built the first time it is seen. One pushed out of the cache is
    dropped, not closed: a request may still be using it."""
    with _cache_lock:
        services = _cache.get(config)
        if services is None:
            services = Services(config)
            _cache[config] = services
            while len(_cache) > _MAX_CACHED:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(config)
        return services


def load_services(environ: Mapping[str, str] | None = None) -> Services:
    """The services for the current app settings; ``ConfigError`` names the bad settings."""
    return services_for(load_config(environ))


def clear_cache() -> None:
    """Forget every cached service (tests that change app settings in-process)."""
    with _cache_lock:
        _cache.clear()
