"""Files in real Chromium: a screenshot pasted into the help form shows on the ticket page;
an uploaded SVG or HTML file with a script never runs it, however it is opened."""

import pytest

from support.models import Attachment, Ticket
from tests.conftest import checked, make_ticket, upload

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert(\'svg\')">'
    "<script>alert('svg-script')</script><rect width='100' height='100'/></svg>"
)
HTML = "<!doctype html><html><body><script>alert('html')</script><h1>hi</h1></body></html>"

# A screenshot as the clipboard holds one: drawn on a canvas, written as a PNG image.
PUT_SCREENSHOT_ON_CLIPBOARD = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 640; canvas.height = 360;
  const context = canvas.getContext("2d");
  context.fillStyle = "#1f6feb"; context.fillRect(0, 0, 640, 360);
  context.fillStyle = "#fff"; context.font = "48px sans-serif";
  context.fillText("Kernel died", 40, 180);
  const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
  await navigator.clipboard.write([new ClipboardItem({"image/png": blob})]);
}"""


def fill_the_form(page, desk, subject="Kernel died"):
    page.goto(f"{desk}/support/new/")
    page.get_by_label("Your e-mail address").fill("jane@example.com")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("How can we help?").fill("It shows an error:")


def test_a_pasted_screenshot_is_filed_and_shown_on_the_ticket_page(page, desk):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=desk)
    fill_the_form(page, desk)
    page.evaluate(PUT_SCREENSHOT_ON_CLIPBOARD)

    page.get_by_label("How can we help?").focus()
    page.keyboard.press("Control+V")

    chosen = page.locator(".support-chosen li")
    chosen.first.wait_for()
    assert chosen.count() == 1 and chosen.first.inner_text().startswith("screenshot-")
    # The text typed is untouched: the paste only added the picture.
    assert page.get_by_label("How can we help?").input_value() == "It shows an error:"
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you: we have your request").wait_for()

    file = Attachment.objects.get()
    assert file.name.startswith("screenshot-") and file.name.endswith(".png")
    assert (file.content_type, file.width, file.height) == ("image/png", 640, 360)
    page.locator(".support-link a").click()
    thumbnail = page.locator(".attachments img")
    thumbnail.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    assert thumbnail.evaluate("img => img.naturalWidth") == 480  # the thumbnail, not the file
    with page.context.expect_page() as opened:
        thumbnail.click()  # opens the picture full size
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == 640
    assert page.dialogs == []


def test_a_removed_file_is_not_sent(page, desk, tmp_path):
    fill_the_form(page, desk)
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    page.locator("input[type=file]").set_input_files([tmp_path / "a.txt", tmp_path / "b.txt"])
    page.get_by_role("button", name="Remove: a.txt").click()

    assert page.locator(".support-chosen li").count() == 1
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you: we have your request").wait_for()
    assert list(Attachment.objects.values_list("name", flat=True)) == ["b.txt"]


@pytest.mark.parametrize(
    ("name", "content"), [("drawing.svg", SVG), ("page.html", HTML), ("cute.png", HTML)]
)
def test_an_uploaded_file_with_a_script_never_runs_it(page, desk, tmp_path, name, content):
    (tmp_path / name).write_text(content)
    fill_the_form(page, desk, subject=f"About {name}")
    page.locator("input[type=file]").set_input_files(tmp_path / name)
    page.get_by_role("button", name="Send").click()
    page.get_by_role("heading", name="Thank you: we have your request").wait_for()
    ticket = Ticket.objects.get()
    file = ticket.attachments.get()
    assert not file.is_image
    url = f"{desk}{ticket.requester_path()}files/{file.pk}/"

    page.goto(desk + ticket.requester_path())
    link = page.get_by_role("link", name=name)
    assert link.get_attribute("download") is not None
    with page.expect_download() as clicked:
        link.click()  # the page's own link downloads it
    assert clicked.value.suggested_filename == name
    # Shown in a frame, an object or an image of the desk's own page, or opened in a tab
    # of its own: a download, an inert sandboxed document, or nothing; never a script.
    page.evaluate(
        """url => {
            for (const tag of ["iframe", "object", "embed", "img"]) {
                const element = document.createElement(tag);
                element[tag === "object" ? "data" : "src"] = url;
                document.body.appendChild(element);
            }
        }""",
        url,
    )
    tab = page.context.new_page()
    tab.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    with pytest.raises(Exception, match="Download is starting"):
        tab.goto(url)
    page.wait_for_timeout(500)  # time for any script to have run
    assert page.dialogs == []


def test_an_svg_that_reaches_the_page_as_a_picture_is_never_inline(page, desk):
    ticket = make_ticket(attachments=checked(upload("logo.png", SVG.encode(), "image/png")))
    page.goto(desk + ticket.requester_path())

    assert page.locator(".attachments img").count() == 0  # no thumbnail, no inline picture
    assert page.dialogs == []
