"""config.urls plus `bench/floor`: the least a Django view can do to store one JSON request,
and `bench/upload`: the least it can do to store one uploaded file.

The floor parses the body and inserts it as one row with one SQL statement of its own
(Django adds its per-request connection health check, as it does for the API), through the
same middleware, WSGI server and database as the real API, so comparing the API against
it shows what the API's own work (DRF, validation, authentication, the ORM) costs.
"""

import json
import os
import uuid

from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def floor(request):
    data = json.loads(request.body)
    row_id = uuid.UUID(data["id"]) if data.get("id") else uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (id, payload) VALUES (%s, %s)",
            [row_id, json.dumps(data)],
        )
    return JsonResponse({"id": str(row_id)})


@csrf_exempt
def upload(request):
    """Django's own upload handlers (to a temporary file past 2.5 MB), then a plain
    FileSystemStorage save into BENCH_UPLOAD_DIR: no checks, no hash, no row."""
    file = request.FILES["attachments"]
    name = FileSystemStorage(location=os.environ["BENCH_UPLOAD_DIR"]).save(uuid.uuid4().hex, file)
    return JsonResponse({"name": name, "size": file.size})


urlpatterns = [
    path("bench/floor", floor, name="bench_floor"),
    path("bench/upload", upload, name="bench_upload"),
    *project_urlpatterns,
]
