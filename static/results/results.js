/* Results pages: draw the server-built Plotly figures with the local plotly.min.js; points link to scans
   (customdata is [scan id, eid]). */
(function () {
  "use strict";
  document.querySelectorAll("[data-figure]").forEach(function (target) {
    var source = document.getElementById(target.dataset.figure);
    if (!source) { return; }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(target, figure.data, figure.layout, {responsive: true, displaylogo: false}).then(function () {
      var link = target.dataset.link;
      if (!link) { return; }
      target.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata !== undefined) {
          window.location.href = link.replace("SCAN", encodeURIComponent(point.customdata[0]));
        }
      });
    });
  });
}());
