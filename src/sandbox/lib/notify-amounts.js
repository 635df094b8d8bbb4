// Amounts that add up, as in real notifications (templates/EVIDENCE.md): the coupon pays part of
// the order and the payer the rest, cash_fee = total_fee − coupon_fee. The coupon is a tenth of the
// total, at least 1 fen, so the payer always pays at least 1 fen; a total under 2 fen cannot hold one.
function notifyAmountVariables(total) {
  var text = String(total);
  if (!/^[1-9]\d*$/.test(text) || Number(text) < 2) {
    return { error: 'the order total is "' + text + '" fen: this case pays part of it with a coupon (cash_fee = total_fee − coupon_fee), which needs a total of at least 2 fen; set "total" to 2 or more' };
  }
  var coupon = Math.max(1, Math.floor(Number(text) / 10));
  return { variables: { wxpay_coupon_fee: String(coupon), wxpay_cash_fee: String(Number(text) - coupon) } };
}
