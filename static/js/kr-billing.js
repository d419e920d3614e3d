// Recurring giving by Korean card (정기결제): opens PortOne's billing key window with the browser SDK
// (vendored under static/vendor/portone, see docs/payments.md) and hands the key to the server in a form.
// The server reads the key back from PortOne before it keeps it; nothing here decides anything.
const root = document.getElementById("kr-billing");
const status = root.querySelector("[data-kr-status]");
const form = root.querySelector("[data-kr-billing-form]");

function send(billingKey) {
  form.elements.billing_key.value = billingKey;
  form.submit();
}

async function issue() {
  const data = root.dataset;
  try {
    const PortOne = await import(data.sdkUrl);
    const answer = await PortOne.requestIssueBillingKey({
      storeId: data.storeId,
      channelKey: data.channelKey,
      billingKeyMethod: "CARD",
      issueId: data.issueId,
      issueName: data.issueName,
      customer: { customerId: data.customerId },
      redirectUrl: data.returnUrl,  // phones leave the page for the window and come back here
    });
    if (!answer || answer.code || !answer.billingKey) {
      status.textContent = (answer && answer.message) || data.errorText;
      return;
    }
    send(answer.billingKey);
  } catch (error) {
    status.textContent = data.errorText;
  }
}

const back = new URLSearchParams(window.location.search);
if (back.get("billingKey") && !back.get("code")) {
  send(back.get("billingKey"));  // back from the window on a phone
} else {
  for (const button of root.querySelectorAll("[data-kr-billing]")) {
    button.hidden = false;
    button.addEventListener("click", issue);
  }
}
