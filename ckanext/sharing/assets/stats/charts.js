/* Statistics charts (issue 17): every element with data-sharing-chart="<id of a JSON spec>" becomes an
 * Apache ECharts chart (SVG renderer) drawn from the same numbers as the table under it (the spec is
 * built by ckanext/sharing/stats/tables.py). Labels come translated from the server; nothing here is text.
 * Readable at phone width: labels are kept inside the grid, long category names are truncated, the
 * legend scrolls, and charts follow the window's size. */
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }
  var charts = [];
  var narrow = function () { return window.innerWidth < 576; };

  function pct(spec) { return spec.percent ? "{value}%" : "{value}"; }

  function axisSeries(spec, type, stack) {
    return spec.series.map(function (s, i) {
      var out = { type: type, name: s.name, data: s.data, emphasis: { focus: "series" } };
      if (stack) { out.stack = "total"; }
      if (type === "line") { out.smooth = false; out.showSymbol = spec.categories.length < 24; }
      if (i === 0 && spec.limit !== null && spec.limit !== undefined) {
        out.markLine = { symbol: "none", label: { formatter: spec.limitName + " {c}" },
                         lineStyle: { type: "dashed", color: "#c23531" }, data: [{ yAxis: spec.limit }] };
      }
      return out;
    });
  }

  function option(spec) {
    var base = {
      tooltip: { trigger: spec.type === "pie" ? "item" : "axis", confine: true },
      legend: { type: "scroll", top: 0, show: spec.type === "pie" || spec.series.length > 1 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      animation: false
    };
    var labelWidth = narrow() ? 90 : 160;
    if (spec.type === "pie") {
      base.legend.show = true;
      base.series = [{
        type: "pie", radius: narrow() ? ["30%", "55%"] : ["35%", "65%"], center: ["50%", "58%"],
        label: { formatter: "{b}: {c}" },
        data: spec.categories.map(function (c, i) { return { name: c, value: spec.series[0].data[i] }; })
      }];
      return base;
    }
    var category = { type: "category", data: spec.categories,
                     axisLabel: { width: labelWidth, overflow: "truncate", hideOverlap: true } };
    var value = { type: "value", axisLabel: { formatter: pct(spec) }, minInterval: spec.percent ? 0 : 1 };
    if (spec.type === "hbar") {
      category.inverse = true;
      base.xAxis = value; base.yAxis = category;
      base.series = axisSeries(spec, "bar", false);
    } else {
      category.axisLabel.rotate = spec.categories.length > 6 ? 40 : 0;
      base.xAxis = category; base.yAxis = value;
      base.series = axisSeries(spec, spec.type === "line" ? "line" : "bar", spec.type === "stack");
    }
    return base;
  }

  function render(el) {
    var holder = document.getElementById(el.getAttribute("data-sharing-chart"));
    if (!holder) { return; }
    var spec = JSON.parse(holder.textContent);
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option(spec));
    el.setAttribute("data-rendered", "true");
    charts.push({ chart: chart, spec: spec });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-sharing-chart]"), render);
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () {
      charts.forEach(function (c) { c.chart.setOption(option(c.spec), true); c.chart.resize(); });
    }, 150);
  });
}());
