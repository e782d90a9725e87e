// The iceberg chart: complaints, complaining customers and the estimate per category.
document.addEventListener("DOMContentLoaded", () => {
  const target = document.getElementById("iceberg-chart");
  const source = document.getElementById("iceberg-data");
  if (!target || !source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const estimate = data.series.length - 1;
  const chart = echarts.init(target);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: {},
    xAxis: { type: "category", data: data.categories },
    yAxis: { type: "value" },
    series: data.series.map((series, index) => ({
      name: series.name, type: "bar", data: series.data,
      // The estimate is drawn hollow: it is not a count.
      itemStyle: index === estimate ? { color: "transparent", borderColor: "#5470c6", borderType: "dashed", borderWidth: 2 } : undefined,
    })),
  });
  window.addEventListener("resize", () => chart.resize());
});
