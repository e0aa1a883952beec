// Shows every <time datetime> in the viewer's timezone; without it the UTC text stays.
(function () {
  "use strict";
  var nodes = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i];
    var moment = new Date(node.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { continue; }
    node.title = node.textContent;
    node.textContent = moment.toLocaleString(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
    });
  }
})();
