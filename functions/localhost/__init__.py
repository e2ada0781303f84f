"""Local Functions host: serves a ``func.FunctionApp``'s HTTP triggers on loopback and drains its
queue triggers from Azurite, invoking the registered functions as the Azure Functions host would.
See ``functions.localhost.host`` for what is (and is not) emulated."""

from functions.localhost.host import LocalFunctionsHost, configure_logging, index_functions
from functions.localhost.hostjson import HostSettings

__all__ = ["HostSettings", "LocalFunctionsHost", "configure_logging", "index_functions"]
