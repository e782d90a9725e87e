// The customer value page: Lorenz/Pareto, whale curve, cohorts, segments, CLV bands.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("value-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const names = data.labels;
  const charts = [];
  const draw = (id, option) => {
    const target = document.getElementById(id);
    if (!target) return;
    const chart = echarts.init(target);
    chart.setOption(option);
    charts.push(chart);
  };
  const share = { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } };
  const line = (name, points) => ({ name, type: "line", showSymbol: false, data: points });
  draw("lorenz-chart", {
    tooltip: { trigger: "axis" }, legend: {},
    xAxis: { ...share, name: names.customers, nameLocation: "middle", nameGap: 28 },
    yAxis: share,
    series: [
      line(names.pareto, data.pareto), line(names.lorenz, data.lorenz),
      { ...line(names.equality, [[0, 0], [1, 1]]), lineStyle: { type: "dashed" } },
    ],
  });
  draw("whale-chart", {
    tooltip: { trigger: "axis" }, legend: {},
    xAxis: { ...share, name: names.customers, nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } },
    series: [line(names.whale, data.whale)],
  });
  if (data.cohorts) {
    const span = Math.max(0, ...data.cohorts.cells.map((cell) => cell[0]));
    draw("cohort-chart", {
      tooltip: { formatter: (p) => `${data.cohorts.cohorts[p.value[1]]} +${p.value[0]}: ${Math.round(p.value[2] * 100)}%` },
      xAxis: { type: "category", name: names.months_since, nameLocation: "middle", nameGap: 28,
               data: Array.from({ length: span + 1 }, (_, i) => i) },
      yAxis: { type: "category", data: data.cohorts.cohorts },
      visualMap: { min: 0, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
      grid: { bottom: 80 },
      series: [{ name: names.retention, type: "heatmap", data: data.cohorts.cells }],
    });
  }
  draw("segment-chart", {
    tooltip: { trigger: "axis" }, legend: {},
    xAxis: { type: "category", data: data.segments.names, axisLabel: { rotate: 30 } },
    yAxis: [{ type: "value", name: names.segment_customers }, { type: "value", name: names.segment_clv }],
    series: [
      { name: names.segment_customers, type: "bar", data: data.segments.customers },
      { name: names.segment_clv, type: "bar", yAxisIndex: 1, data: data.segments.clv },
    ],
  });
  draw("clv-chart", {
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", name: names.segment_clv, data: data.clv.bands, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", name: names.segment_customers },
    series: [{ name: names.segment_customers, type: "bar", data: data.clv.customers }],
  });
  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
});
