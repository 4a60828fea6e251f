"""Django's "view on site" (/admin/r/<content type>/<id>/), for any address."""

from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404, HttpRequest, HttpResponse

from .filters import is_stored_value


def view_on_site(request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
    """Django's view-on-site (a redirect to the object's page, or a 404), with a 404 for
    an address that can name no object: a content type or id its column cannot hold.
    Django's own answers those with a 500 (a UUID primary key raises ValidationError, a
    number past 64 bits OverflowError or DataError). Route it before the admin's URLs,
    through `admin.site.admin_view` (staff only), as config/urls.py does."""
    if not is_stored_value(ContentType._meta.pk, content_type_id):
        raise Http404
    content_type = ContentType.objects.filter(pk=content_type_id).first()
    model = content_type.model_class() if content_type else None
    if model is None or not is_stored_value(model._meta.pk, object_id):
        raise Http404
    return shortcut(request, content_type_id, object_id)
