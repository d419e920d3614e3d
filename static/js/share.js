// The share button of a need's pages (templates/macros.html, share_button). The Web Share API opens
// the phone's own share sheet (KakaoTalk, messages...); where there is none, the link is copied and
// the page says so in words a screen reader announces; if copying is refused, the link is shown to
// copy by hand. Without JavaScript the button stays hidden.
for (const box of document.querySelectorAll(".share[data-share-url]")) {
  const button = box.querySelector(".share-button");
  const status = box.querySelector(".share-status");
  const url = box.dataset.shareUrl;
  const title = box.dataset.shareTitle;
  button.hidden = false;
  button.addEventListener("click", async () => {
    if (navigator.share) {
      try {
        await navigator.share({ title, url });
        return;
      } catch (error) {
        if (error && error.name === "AbortError") return;  // the person closed the share sheet
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = box.dataset.copied;
    } catch (error) {
      status.textContent = box.dataset.copyFailed;
    }
  });
}
