// Click-to-call: the tel: link opens the softphone as usual, and kehu logs the
// outbound call in the background (keepalive survives the page handing off).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-call-log]");
  if (!link) return;
  const token = document.querySelector("[name=csrfmiddlewaretoken]")?.value
    || JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const body = new URLSearchParams({ customer: link.dataset.callLog, number: link.dataset.number });
  fetch("/calls/outbound/", {
    method: "POST", body, keepalive: true, credentials: "same-origin",
    headers: { "X-CSRFToken": token },
  });
});
