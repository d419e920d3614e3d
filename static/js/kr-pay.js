// The payment page of the Korean rails: opens PortOne's payment window with the browser SDK
// (vendored under static/vendor/portone, see docs/payments.md), then sends the browser to the
// server, which reads the payment back from PortOne. Nothing here decides whether money arrived.
const root = document.getElementById("kr-pay");
const status = root.querySelector("[data-kr-status]");

async function pay(button) {
  const data = root.dataset;
  if (data.demoUrl) {  // the demo provider: its own window on this site
    window.location.assign(data.demoUrl);
    return;
  }
  const request = {
    storeId: data.storeId,
    channelKey: data.channelKey,
    paymentId: data.paymentId,
    orderName: data.orderName,
    totalAmount: Number(data.amount),
    currency: "KRW",
    payMethod: data.payMethod,
    redirectUrl: data.completeUrl,  // phones leave the page for the window and come back here
  };
  if (button.dataset.easyPay) request.easyPay = { easyPayProvider: button.dataset.easyPay };
  if (data.vaDue) request.virtualAccount = { accountExpiry: { dueDate: data.vaDue } };
  try {
    const PortOne = await import(data.sdkUrl);
    const answer = await PortOne.requestPayment(request);
    const code = answer && answer.code ? "?code=" + encodeURIComponent(answer.code) : "";
    window.location.assign(data.completeUrl + code);
  } catch (error) {
    status.textContent = data.errorText;
  }
}

for (const button of root.querySelectorAll("[data-kr-pay]")) {
  button.hidden = false;
  button.addEventListener("click", () => pay(button));
}
