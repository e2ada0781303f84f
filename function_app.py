"""The Function App: registers the trigger blueprints from functions/triggers, nothing else."""

import azure.functions as func

from functions.triggers import BLUEPRINTS

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in BLUEPRINTS:
    app.register_functions(blueprint)
