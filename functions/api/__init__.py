"""The settings API (docs/settings-api.md): auth policy, request/response handling, routes.

Kept free of imports so that ``functions.api.auth`` can be used without pulling in the HTTP layer.
"""
