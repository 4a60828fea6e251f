"""What drf-spectacular needs to describe the API exactly in its OpenAPI schema."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "support.api.authentication.ApiKeyAuthentication"
    name = ["apiKeyBasic", "apiKeyBearer"]

    def get_security_requirement(self, auto_schema):
        # Either scheme carries the key: alternatives are separate requirements.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "basic",
                "description": "The API key as the user name, with an empty password.",
            },
            {"type": "http", "scheme": "bearer", "description": "The API key (`sk_…`)."},
        ]


class NonBlankCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "support.api.serializers.NonBlankCharField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": r"\S"}
