"""How drf-spectacular describes the API key authentication in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "support.api.authentication.ApiKeyAuthentication"
    name = ["apiKeyBasic", "apiKeyBearer"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "The API key as the user name, with an empty password.",
            },
            {"type": "http", "scheme": "bearer", "description": "The API key (`sk_…`)."},
        ]
