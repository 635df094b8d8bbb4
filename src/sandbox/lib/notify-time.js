// WeChat stamps notifications in Beijing time (UTC+8) whatever the sender's clock zone is.
function beijingParts(epochMs) {
  var d = new Date(epochMs + 8 * 3600 * 1000);
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  return {
    y: String(d.getUTCFullYear()), mo: pad(d.getUTCMonth() + 1), d: pad(d.getUTCDate()),
    h: pad(d.getUTCHours()), mi: pad(d.getUTCMinutes()), s: pad(d.getUTCSeconds()),
  };
}

// The three time formats the notifications use: v2 time_end, v2 refund success_time, v3 RFC 3339.
function notifyTimeVariables(epochMs) {
  var p = beijingParts(epochMs);
  return {
    wxpay_time_end: p.y + p.mo + p.d + p.h + p.mi + p.s,
    wxpay_refund_success_time: p.y + '-' + p.mo + '-' + p.d + ' ' + p.h + ':' + p.mi + ':' + p.s,
    wxpay_success_time: p.y + '-' + p.mo + '-' + p.d + 'T' + p.h + ':' + p.mi + ':' + p.s + '+08:00',
  };
}
