/*
 * report.js: the charts of fallout's HTML performance report (src/report/html.c).
 *
 * The page holds its data as JSON in <script id="fo-data" type="application/json"> and one
 * empty <div class="chart" data-series="I" data-kind="K"> per chart; this script draws each
 * with uPlot (embedded in the page before this script). Kinds:
 *   throughput  operations per second over time (one line per run)
 *   latency     latency percentiles over time: p50, p90, p99, p99.9 and max for one run;
 *               with several runs, one line per run for the percentile chosen above it
 *   dist        the latency distribution: latency against percentile, on a log scale of
 *               1/(1-p), so 90%, 99%, 99.9%... are evenly spaced
 *   metric      a node metric chart (data-chart="I": the page data's nodes[I]): its lines,
 *               each {label, color, dash, t, v}, where a null in v is a gap (no sample)
 * Every time chart (throughput, latency, metric) spans the same time range, seconds since
 * the workload started, and they all share one cursor: hovering or zooming one moves them
 * all. Phases (the workload's modules, from the run's history) are shaded on time charts,
 * with their names on bars above the plot; with one run, the spans of its notes (a load
 * driver that saturated its CPU) are shaded red, and its faults (data.runs[0].faults:
 * {kind, nodes, start, end}, end null when never healed) are hatched in red between red
 * edges, labelled with their kind and nodes (a fault healed at once is a red line). Buttons above a chart (.picker[data-attr])
 * set one of its attributes and draw it again: data-pct (which percentile a comparison
 * shows) and data-scale (a linear or log latency axis). Drag to zoom, double-click to zoom
 * out, click a legend entry to hide or show its line.
 *
 * For tests: <body data-charts="N"> is the number of charts, data-drawn counts those that
 * uPlot has rendered, and data-error holds the first error, if any.
 */
(function () {
	"use strict";

	var body = document.body;

	function fail(msg) {
		if (!body.hasAttribute("data-error"))
			body.setAttribute("data-error", String(msg));
		var box = document.getElementById("fo-error");
		if (box) {
			box.textContent = "The charts could not be drawn: " + msg;
			box.hidden = false;
		}
	}
	window.addEventListener("error", function (e) {
		fail(e.message || "script error");
	});

	var PCT = [
		{key: "p50", label: "p50", color: "#4e79a7"},
		{key: "p90", label: "p90", color: "#59a14f"},
		{key: "p99", label: "p99", color: "#f28e2b"},
		{key: "p999", label: "p99.9", color: "#e15759"},
		{key: "max", label: "max", color: "#76448a"},
	];
	var RUN_COLORS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76448a", "#17becf", "#b07aa1", "#9c755f",
		"#bcbd22", "#7f7f7f"];
	var SIDE_COLORS = {
		baseline: ["#1f4e79", "#4e79a7", "#7fa6cf", "#a9c6e3", "#2e6da4", "#5d8fc4"],
		contender: ["#b23a10", "#f28e2b", "#f5b26b", "#e15759", "#c8641b", "#f0a050"],
	};

	/* ---- number formats ---- */

	function trim(s) {
		return s.indexOf(".") < 0 ? s : s.replace(/\.?0+$/, "");
	}
	function fmtMs(v) {
		if (v == null || !isFinite(v))
			return "–";
		var a = Math.abs(v);
		if (a === 0)
			return "0 ms";
		if (a >= 1000)
			return trim((v / 1000).toFixed(a >= 100000 ? 0 : 2)) + " s";
		if (a >= 100)
			return v.toFixed(0) + " ms";
		if (a >= 1)
			return trim(v.toFixed(2)) + " ms";
		if (a >= 0.001)
			return trim((v * 1000).toFixed(a >= 0.1 ? 0 : 1)) + " µs";
		return trim((v * 1e6).toFixed(0)) + " ns";
	}
	function fmtOps(v) {
		if (v == null || !isFinite(v))
			return "–";
		var a = Math.abs(v);
		if (a >= 1e9)
			return trim((v / 1e9).toFixed(2)) + "G";
		if (a >= 1e6)
			return trim((v / 1e6).toFixed(2)) + "M";
		if (a >= 1e4)
			return trim((v / 1e3).toFixed(1)) + "k";
		if (a >= 100)
			return v.toFixed(0);
		return trim(v.toFixed(2));
	}
	function fmtSec(v) {
		if (v == null || !isFinite(v))
			return "–";
		var a = Math.abs(v);
		if (a < 120)
			return trim(v.toFixed(a < 10 ? 2 : 1)) + " s";
		var m = Math.floor(a / 60), s = Math.round(a - m * 60);
		if (s === 60) {
			m++;
			s = 0;
		}
		if (m < 120)
			return (v < 0 ? "-" : "") + m + "m" + (s ? " " + s + "s" : "");
		var h = Math.floor(m / 60);
		m -= h * 60;
		return (v < 0 ? "-" : "") + h + "h" + (m ? " " + m + "m" : "");
	}
	/* x of the distribution chart is 1/(1-p): back to a percentile */
	function fmtPct(x) {
		if (x == null || !isFinite(x))
			return "–";
		var p = 100 * (1 - 1 / x);
		if (p <= 0)
			return "0%";
		var digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(100 - p)) + 1));
		return trim(p.toFixed(digits)) + "%";
	}
	function tickPct(x) {
		/* 1, 10, 100, ... -> 0%, 90%, 99%, 99.9%, ... */
		var k = Math.round(Math.log10(x));
		if (k <= 0)
			return "0%";
		if (k === 1)
			return "90%";
		if (k === 2)
			return "99%";
		return "99." + "9".repeat(k - 2) + "%";
	}
	/* Bytes in decimal units (so the axis's round ticks read round: 500 MB). */
	function fmtBytes(v) {
		if (v == null || !isFinite(v))
			return "–";
		var units = ["B", "kB", "MB", "GB", "TB", "PB"], i = 0, a = Math.abs(v);
		while (a >= 1000 && i < units.length - 1) {
			a /= 1000;
			v /= 1000;
			i++;
		}
		return trim(v.toFixed(i === 0 || a >= 100 ? 0 : a >= 10 ? 1 : 2)) + " " + units[i];
	}
	function fmtPercent(v) {
		if (v == null || !isFinite(v))
			return "–";
		return trim(v.toFixed(Math.abs(v) < 10 ? 1 : 0)) + "%";
	}
	/* A node metric's unit (report/metrics_load.h, fo_metric_unit): its format and axis label. */
	var UNITS = {
		"%": {fmt: fmtPercent, label: "%"},
		"B": {fmt: fmtBytes, label: "bytes"},
		"B/s": {fmt: function (v) {
			return v == null || !isFinite(v) ? "–" : fmtBytes(v) + "/s";
		}, label: "bytes / s"},
		"/s": {fmt: function (v) {
			return v == null || !isFinite(v) ? "–" : fmtOps(v) + "/s";
		}, label: "per second"},
		"": {fmt: fmtOps, label: "count"},
	};

	/* Tick labels; uPlot passes null for ticks it leaves unlabelled (on log axes). */
	function ticks(fmt) {
		return function (u, vals) {
			return vals.map(function (v) {
				return v == null ? "" : fmt(v);
			});
		};
	}

	/* ---- phases ---- */

	/* Gives each phase a row so that overlapping phases (modules running at once) get
	 * their labels on different rows. */
	function phaseRows(phases) {
		var ends = [];
		return phases.map(function (p) {
			var r = 0;
			while (r < ends.length && ends[r] > p.start)
				r++;
			ends[r] = p.end;
			return {name: p.name, start: p.start, end: p.end, row: r};
		});
	}

	var PHASE_FILL = ["rgba(78,121,167,0.07)", "rgba(242,142,43,0.08)", "rgba(89,161,79,0.08)",
		"rgba(176,122,161,0.08)"];
	var PHASE_BAR = ["rgba(78,121,167,0.55)", "rgba(242,142,43,0.6)", "rgba(89,161,79,0.6)",
		"rgba(176,122,161,0.6)"];

	var BAR = 14, GAP = 2;

	/* The room the phase bars need above the plot (CSS pixels). */
	function phaseTrack(phases) {
		var rows = phaseRows(phases || []);
		var n = 0;
		rows.forEach(function (p) {
			n = Math.max(n, p.row + 1);
		});
		return n ? n * (BAR + GAP) + 4 : 0;
	}

	/* The canvas pixels from time start to time end inside the plot, or null when none. */
	function xSpan(u, start, end) {
		var b = u.bbox;
		var x0 = Math.max(b.left, u.valToPos(start, "x", true));
		var x1 = Math.min(b.left + b.width, u.valToPos(end, "x", true));
		return x1 > x0 ? [x0, x1] : null;
	}

	function phasesPlugin(phases) {
		var rows = phaseRows(phases || []);
		return {
			hooks: {
				drawClear: [function (u) {
					var ctx = u.ctx, b = u.bbox;
					ctx.save();
					rows.forEach(function (p, i) {
						var s = xSpan(u, p.start, p.end);
						if (!s)
							return;
						ctx.fillStyle = PHASE_FILL[i % PHASE_FILL.length];
						ctx.fillRect(s[0], b.top, s[1] - s[0], b.height);
					});
					ctx.restore();
				}],
				draw: [function (u) {
					var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
					var bar = BAR * px, top = b.top - phaseTrack(phases) * px;
					ctx.save();
					ctx.font = (11 * px) + "px system-ui, sans-serif";
					ctx.textBaseline = "middle";
					ctx.textAlign = "left";
					rows.forEach(function (p, i) {
						var s = xSpan(u, p.start, p.end);
						if (!s)
							return;
						var y = top + p.row * (bar + GAP * px);
						ctx.fillStyle = PHASE_BAR[i % PHASE_BAR.length];
						ctx.fillRect(s[0], y, s[1] - s[0], bar);
						var w = s[1] - s[0] - 6 * px;
						if (w > 12 * px) {
							ctx.fillStyle = "#fff";
							var text = p.name;
							while (text.length > 1 && ctx.measureText(text).width > w)
								text = text.slice(0, -2) + "…";
							ctx.fillText(text, s[0] + 3 * px, y + bar / 2);
						}
					});
					ctx.restore();
				}],
			},
		};
	}

	/* ---- the shared time axis and the notes' spans ---- */

	/* The range of every time chart: from the workload's start (0) to the last point, phase
	 * or span of any chart, so that the charts line up. */
	var XR = {lo: 0, hi: 1};
	/* The spans of the run's notes (one run only), shaded on every time chart. */
	var SUSPECT = [];

	function timeExtent(data) {
		var lo = 0, hi = -Infinity;
		function see(v) {
			if (v == null || !isFinite(v))
				return;
			if (v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
		function seeAll(a) {
			if (a && a.length) {
				see(a[0]);
				see(a[a.length - 1]);
			}
		}
		(data.series || []).forEach(function (s) {
			s.runs.forEach(function (d) {
				if (d)
					seeAll(d.t);
			});
		});
		(data.nodes || []).forEach(function (c) {
			c.lines.forEach(function (l) {
				seeAll(l.t);
			});
		});
		(data.runs || []).forEach(function (r) {
			(r.phases || []).forEach(function (p) {
				see(p.start);
				see(p.end);
			});
		});
		SUSPECT.forEach(function (sp) {
			see(sp[0]);
			see(sp[1]);
		});
		FAULTS.forEach(function (f) {
			see(f.start);
			see(f.end);
		});
		return {lo: lo, hi: hi > lo ? hi : lo + 1};
	}

	function suspectPlugin() {
		return {
			hooks: {
				drawClear: [function (u) {
					var ctx = u.ctx, b = u.bbox;
					ctx.save();
					ctx.fillStyle = "rgba(179,38,30,0.09)";
					SUSPECT.forEach(function (sp) {
						var s = xSpan(u, sp[0], sp[1]);
						if (s)
							ctx.fillRect(s[0], b.top, s[1] - s[0], b.height);
					});
					ctx.restore();
				}],
				draw: [function (u) {
					var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
					ctx.save();
					ctx.fillStyle = "rgba(179,38,30,0.85)";
					ctx.font = "600 " + (10.5 * px) + "px system-ui, sans-serif";
					ctx.textBaseline = "bottom";
					ctx.textAlign = "left";
					SUSPECT.forEach(function (sp) {
						var s = xSpan(u, sp[0], sp[1]);
						if (!s)
							return;
						ctx.fillRect(s[0], b.top + b.height - 3 * px, s[1] - s[0], 3 * px);
						if (s[1] - s[0] > 64 * px)
							ctx.fillText("saturated", s[0] + 4 * px, b.top + b.height - 5 * px);
					});
					ctx.restore();
				}],
			},
		};
	}

	/* ---- faults ---- */

	/* The run's faults (one run only), hatched on every time chart. */
	var FAULTS = [];
	var FAULT_RED = "rgba(192,40,30,0.9)";

	function hatch(ctx, px) {
		var c = document.createElement("canvas"), n = Math.round(8 * px);
		c.width = c.height = n;
		var g = c.getContext("2d");
		g.strokeStyle = "rgba(192,40,30,0.22)";
		g.lineWidth = 1.5 * px;
		g.beginPath();
		g.moveTo(0, n);
		g.lineTo(n, 0);
		g.moveTo(-n / 2, n / 2);
		g.lineTo(n / 2, -n / 2);
		g.moveTo(n / 2, n * 1.5);
		g.lineTo(n * 1.5, n / 2);
		g.stroke();
		return ctx.createPattern(c, "repeat");
	}

	function faultsPlugin() {
		/* The fault's span in canvas pixels, or null when it is out of view. */
		function span(u, f) {
			var b = u.bbox;
			var end = f.end == null ? XR.hi : f.end;
			var x0 = u.valToPos(f.start, "x", true), x1 = u.valToPos(end, "x", true);
			if (x1 < b.left || x0 > b.left + b.width)
				return null;
			return [Math.max(b.left, x0), Math.min(b.left + b.width, x1)];
		}
		return {
			hooks: {
				drawClear: [function (u) {
					var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
					if (!FAULTS.length)
						return;
					ctx.save();
					ctx.fillStyle = hatch(ctx, px);
					FAULTS.forEach(function (f) {
						var s = span(u, f);
						if (s && s[1] > s[0])
							ctx.fillRect(s[0], b.top, s[1] - s[0], b.height);
					});
					ctx.restore();
				}],
				draw: [function (u) {
					var ctx = u.ctx, b = u.bbox, px = window.devicePixelRatio || 1;
					ctx.save();
					ctx.setLineDash([]);
					ctx.strokeStyle = FAULT_RED;
					ctx.fillStyle = FAULT_RED;
					ctx.lineWidth = 1.5 * px;
					ctx.font = "600 " + (10.5 * px) + "px system-ui, sans-serif";
					ctx.textBaseline = "top";
					ctx.textAlign = "left";
					FAULTS.forEach(function (f, i) {
						var s = span(u, f);
						if (!s)
							return;
						ctx.beginPath();
						ctx.moveTo(s[0], b.top);
						ctx.lineTo(s[0], b.top + b.height);
						if (f.end != null && s[1] > s[0]) {
							ctx.moveTo(s[1], b.top);
							ctx.lineTo(s[1], b.top + b.height);
						}
						ctx.stroke();
						var text = f.kind + (f.nodes ? " " + f.nodes : "");
						while (text.length > 1 && ctx.measureText(text).width > 220 * px)
							text = text.slice(0, -2) + "…";
						ctx.fillText(text, s[0] + 4 * px, b.top + 3 * px + (i % 3) * 13 * px);
					});
					ctx.restore();
				}],
			},
		};
	}

	/* ---- charts ---- */

	var charts = [];
	var drawnCount = 0;

	function markDrawn(el) {
		if (el.getAttribute("data-drawn") === "1")
			return;
		el.setAttribute("data-drawn", "1");
		drawnCount++;
		body.setAttribute("data-drawn", String(drawnCount));
	}

	function chartWidth(el) {
		return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.clientWidth || 600));
	}

	function make(el, opts, data) {
		opts.width = chartWidth(el);
		opts.height = opts.height || 300;
		opts.hooks = opts.hooks || {};
		opts.hooks.draw = (opts.hooks.draw || []).concat([function () {
			markDrawn(el);
		}]);
		var old = el.uplot;
		if (old)
			old.destroy();
		var holder = el.querySelector(".plot");
		if (!holder) {
			holder = document.createElement("div");
			holder.className = "plot";
			el.appendChild(holder);
		}
		var u = new uPlot(opts, data, holder);
		el.uplot = u;
		if (charts.indexOf(el) < 0)
			charts.push(el);
		return u;
	}

	function axis(label, fmt, size) {
		return {
			label: label,
			labelSize: 22,
			labelFont: "600 12px system-ui, sans-serif",
			font: "12px system-ui, sans-serif",
			stroke: "#4a5563",
			grid: {stroke: "#e7eaee", width: 1},
			ticks: {stroke: "#d0d5db", width: 1, size: 4},
			size: size || 56,
			values: fmt ? ticks(fmt) : undefined,
		};
	}

	/* Time ticks at steps people count in: seconds, then minutes, then hours. */
	var TIME_INCRS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300,
		600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

	function timeAxis() {
		var a = axis("time since start", fmtSec, 44);
		a.incrs = TIME_INCRS;
		a.space = 60;
		return a;
	}

	function line(label, color, fmt, extra) {
		var s = {
			label: label,
			stroke: color,
			width: 1.6,
			spanGaps: true,
			points: {show: false},
			value: function (u, v) {
				return fmt(v);
			},
		};
		for (var k in extra || {})
			s[k] = extra[k];
		return s;
	}

	function runColor(data, i) {
		var r = data.runs[i];
		if (r.side && SIDE_COLORS[r.side]) {
			var k = 0;
			for (var j = 0; j < i; j++)
				if (data.runs[j].side === r.side)
					k++;
			var pal = SIDE_COLORS[r.side];
			return pal[k % pal.length];
		}
		return RUN_COLORS[i % RUN_COLORS.length];
	}

	/* The runs that have this series: [{i, d}] */
	function present(s) {
		var out = [];
		s.runs.forEach(function (d, i) {
			if (d && d.t && d.t.length)
				out.push({i: i, d: d});
		});
		return out;
	}

	/* Aligns several (x, y) tables on the union of their x (uPlot.join). */
	function joined(tables) {
		if (tables.length === 1)
			return tables[0];
		return uPlot.join(tables);
	}

	function cursorOpts(sync) {
		return {
			sync: sync ? {key: sync} : undefined,
			drag: {x: true, y: false, setScale: true},
			points: {size: 6},
		};
	}

	function timeXSeries() {
		return {
			label: "time",
			value: function (u, v) {
				return fmtSec(v);
			},
		};
	}

	/* The latency axis: linear from 0, or log (values <= 0 have no place there). */
	function latencyScale(log) {
		if (!log)
			return {range: function (u, min, max) {
				return [0, max > 0 ? max * 1.08 : 1];
			}};
		return {distr: 3, log: 10, range: function (u, min, max) {
			if (!(min > 0))
				min = max > 0 ? max / 10 : 0.001;
			if (!(max > 0))
				max = 1;
			return [Math.pow(10, Math.floor(Math.log10(min))), Math.pow(10, Math.ceil(Math.log10(max)))];
		}};
	}

	/* Ticks of a log axis: the powers of ten, with 2 and 5 between them over few decades. */
	function logSplits(u, i, min, max) {
		var lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
		var steps = hi - lo > 2 ? [1] : [1, 2, 5];
		var out = [];
		for (var k = lo; k <= hi; k++)
			steps.forEach(function (m) {
				var v = m * Math.pow(10, k);
				if (v >= min * 0.9999 && v <= max * 1.0001)
					out.push(v);
			});
		return out;
	}

	function latencyAxis(log) {
		var a = axis("latency", fmtMs, 64);
		if (log)
			a.splits = logSplits;
		return a;
	}

	function positive(a, log) {
		if (!log || !a)
			return a;
		return a.map(function (v) {
			return v > 0 ? v : null;
		});
	}

	/* The time axis: the same range on every time chart (timeExtent). */
	function timeScale() {
		return {time: false, range: function () {
			return [XR.lo, XR.hi];
		}};
	}

	var TIME_SYNC = "fo-time";

	function padding(phases) {
		var t = phaseTrack(phases);
		return [t ? t + 10 : 12, 24, 0, 0];
	}

	function drawThroughput(el, data, s) {
		var runs = present(s);
		var series = [timeXSeries()];
		var tables = runs.map(function (r) {
			series.push(line(runs.length > 1 ? data.runs[r.i].label : "throughput",
				runs.length > 1 ? runColor(data, r.i) : "#4e79a7", fmtOps,
				runs.length > 1 ? {} : {fill: "rgba(78,121,167,0.10)"}));
			return [r.d.t, r.d.ops];
		});
		var phases = data.runs[runs.length ? runs[0].i : 0].phases;
		make(el, {
			cursor: cursorOpts(TIME_SYNC),
			padding: padding(phases),
			scales: {x: timeScale(), y: {range: function (u, min, max) {
				return [0, max > 0 ? max * 1.08 : 1];
			}}},
			axes: [timeAxis(), axis("operations / s", fmtOps, 64)],
			series: series,
			plugins: [phasesPlugin(phases), suspectPlugin(), faultsPlugin()],
		}, joined(tables));
	}

	function drawLatency(el, data, s, pct, log) {
		var runs = present(s);
		var series = [timeXSeries()];
		var tables;
		if (runs.length === 1) {
			var d = runs[0].d;
			var row = [d.t];
			PCT.forEach(function (p) {
				series.push(line(p.label, p.color, fmtMs, p.key === "max" ? {dash: [4, 3]} : {}));
				row.push(positive(d[p.key], log));
			});
			tables = [row];
		} else {
			var which = PCT.filter(function (p) {
				return p.key === pct;
			})[0] || PCT[2];
			tables = runs.map(function (r) {
				series.push(line(data.runs[r.i].label + " " + which.label, runColor(data, r.i), fmtMs));
				return [r.d.t, positive(r.d[which.key], log)];
			});
		}
		var phases = data.runs[runs.length ? runs[0].i : 0].phases;
		make(el, {
			cursor: cursorOpts(TIME_SYNC),
			padding: padding(phases),
			scales: {x: timeScale(), y: latencyScale(log)},
			axes: [timeAxis(), latencyAxis(log)],
			series: series,
			plugins: [phasesPlugin(phases), suspectPlugin(), faultsPlugin()],
		}, joined(tables));
	}

	function drawDist(el, data, s, log) {
		var runs = present(s).filter(function (r) {
			return r.d.dist && r.d.dist.x.length;
		});
		var series = [{
			label: "percentile",
			value: function (u, v) {
				return fmtPct(v);
			},
		}];
		var xmax = 10;
		var tables = runs.map(function (r) {
			series.push(line(runs.length > 1 ? data.runs[r.i].label : "latency",
				runs.length > 1 ? runColor(data, r.i) : "#e15759", fmtMs));
			r.d.dist.x.forEach(function (x) {
				if (x > xmax)
					xmax = x;
			});
			return [r.d.dist.x, positive(r.d.dist.y, log)];
		});
		var top = Math.pow(10, Math.ceil(Math.log10(xmax)));
		make(el, {
			cursor: cursorOpts(null),
			padding: [12, 40, 0, 0],
			scales: {
				x: {time: false, distr: 3, log: 10, range: function () {
					return [1, top];
				}},
				y: latencyScale(log),
			},
			axes: [
				Object.assign(axis("percentile", null, 44), {
					splits: function (u, i, min, max) {
						var out = [];
						for (var v = 1; v <= max * 1.0001; v *= 10)
							if (v >= min * 0.9999)
								out.push(v);
						return out;
					},
					values: ticks(tickPct),
				}),
				latencyAxis(log),
			],
			series: series,
		}, joined(tables));
	}

	/* A node metric chart: one line per node or field, broken where v holds a null. */
	function drawMetric(el, data, c) {
		var unit = UNITS[c.unit] || UNITS[""];
		var series = [timeXSeries()];
		var tables = c.lines.map(function (l) {
			series.push(line(l.label, RUN_COLORS[l.color % RUN_COLORS.length], unit.fmt,
				{spanGaps: false, dash: l.dash ? [5, 3] : undefined, width: 1.4}));
			return [l.t, l.v];
		});
		var phases = data.runs[0].phases;
		make(el, {
			height: 240,
			cursor: cursorOpts(TIME_SYNC),
			padding: padding(phases),
			scales: {x: timeScale(), y: {range: function (u, min, max) {
				var top = c.ymax || (max > 0 ? max * 1.08 : 1);
				return [Math.min(0, min), top];
			}}},
			axes: [timeAxis(), axis(unit.label, unit.fmt, 64)],
			series: series,
			plugins: [phasesPlugin(phases), suspectPlugin(), faultsPlugin()],
		}, joined(tables));
	}

	function drawChart(el, data) {
		var kind = el.getAttribute("data-kind");
		if (kind === "metric") {
			var c = (data.nodes || [])[Number(el.getAttribute("data-chart"))];
			if (!c)
				throw new Error("chart of an unknown node metric " + el.getAttribute("data-chart"));
			drawMetric(el, data, c);
			return;
		}
		var s = data.series[Number(el.getAttribute("data-series"))];
		var log = el.getAttribute("data-scale") === "log";
		if (!s)
			throw new Error("chart of an unknown series " + el.getAttribute("data-series"));
		if (kind === "throughput")
			drawThroughput(el, data, s);
		else if (kind === "latency")
			drawLatency(el, data, s, el.getAttribute("data-pct") || "p99", log);
		else if (kind === "dist")
			drawDist(el, data, s, log);
		else
			throw new Error("unknown chart kind " + kind);
	}

	/* The buttons above a chart (.picker[data-attr]: which percentile, which scale) set
	 * that attribute of the chart and draw it again. */
	function wirePicker(el, data) {
		Array.prototype.forEach.call(el.parentNode.querySelectorAll(".picker[data-attr]"), function (picker) {
			var attr = picker.getAttribute("data-attr");
			picker.addEventListener("click", function (e) {
				var b = e.target.closest("button[data-value]");
				if (!b)
					return;
				el.setAttribute(attr, b.getAttribute("data-value"));
				Array.prototype.forEach.call(picker.querySelectorAll("button"), function (x) {
					x.classList.toggle("on", x === b);
					x.setAttribute("aria-pressed", x === b ? "true" : "false");
				});
				try {
					drawChart(el, data);
				} catch (err) {
					fail(err && err.message ? err.message : err);
				}
			});
		});
	}

	function main() {
		var els = document.querySelectorAll(".chart[data-kind]");
		body.setAttribute("data-charts", String(els.length));
		body.setAttribute("data-drawn", "0");
		if (typeof uPlot === "undefined")
			throw new Error("uPlot is missing from the page");
		var data = JSON.parse(document.getElementById("fo-data").textContent);
		if (data.runs.length === 1) {
			(data.runs[0].notes || []).forEach(function (n) {
				SUSPECT = SUSPECT.concat(n.spans || []);
			});
			FAULTS = data.runs[0].faults || [];
		}
		XR = timeExtent(data);
		Array.prototype.forEach.call(els, function (el) {
			try {
				drawChart(el, data);
				wirePicker(el, data);
			} catch (err) {
				fail((err && err.message ? err.message : err) + " (chart " + el.id + ")");
			}
		});
		var pending = 0;
		function resize() {
			pending = 0;
			charts.forEach(function (el) {
				var w = chartWidth(el);
				if (el.uplot && Math.abs(el.uplot.width - w) > 1)
					el.uplot.setSize({width: w, height: el.uplot.height});
			});
		}
		window.addEventListener("resize", function () {
			if (!pending)
				pending = window.requestAnimationFrame(resize);
		});
	}

	try {
		main();
	} catch (err) {
		fail(err && err.message ? err.message : err);
	}
})();
