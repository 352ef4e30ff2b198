// The parts of d3 the explorer uses (site/assets/explorer/explorer.js), exposed as the global `d3`.
export { scaleLinear, scaleLog, scaleSymlog } from "d3-scale";
export { line, area } from "d3-shape";
export { axisBottom, axisLeft } from "d3-axis";
export { select, selectAll } from "d3-selection";
