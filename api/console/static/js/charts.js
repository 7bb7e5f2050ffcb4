// Apache ECharts (vendored from npm by scripts/console_assets.sh), one chart per element.
export function chart(element, option, onClick) {
  const made = window.echarts.init(element, null, { renderer: "canvas" });
  made.setOption({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, top: 32, bottom: 32 }, ...option });
  if (onClick) made.on("click", onClick);
  new ResizeObserver(() => made.resize()).observe(element);
  return made;
}

export function bars(element, labels, series, onClick) {
  return chart(element, {
    legend: { top: 0 },
    xAxis: { type: "category", data: labels },
    yAxis: { type: "value" },
    series: series.map(([name, data]) => ({ name, type: "bar", data })),
  }, onClick);
}

export function lines(element, labels, series, onClick) {
  return chart(element, {
    legend: { top: 0 },
    xAxis: { type: "category", data: labels },
    yAxis: { type: "value" },
    series: series.map(([name, data]) => ({ name, type: "line", data, connectNulls: true })),
  }, onClick);
}
