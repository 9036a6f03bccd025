/*
 * HdrStats.java: merges interval histograms per tag the way Java's HistogramLogProcessor
 * does (the accumulator is a reset, auto-resizing copy of the tag's first histogram) and
 * prints one JSON line of statistics per tag, for tests/e2e/test_hdr_interop.py to compare
 * with `fallout hdr summary --json`. Shared by GenLog.java and ReadLog.java.
 */
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.HdrHistogram.Histogram;

final class HdrStats {
	/* The percentiles printed, as keys and values. */
	static final String[] PERCENTILES = {"0", "1", "25", "50", "75", "90", "95", "99", "99.9", "99.99", "99.999", "100"};

	/* One tag's merged intervals. */
	static final class Acc {
		final String tag;
		final Histogram h;
		int intervals;
		long firstStartMs = Long.MAX_VALUE;   /* earliest interval start (ms since epoch) */
		long lastEndMs = Long.MIN_VALUE;      /* latest interval end */

		Acc(String tag, Histogram first) {
			this.tag = tag;
			h = first.copy();
			h.reset();
			h.setAutoResize(true);
		}
	}

	private final Map<String, Acc> byTag = new LinkedHashMap<>();

	/* Adds one interval histogram to its tag's accumulator. */
	void add(Histogram interval) {
		String tag = interval.getTag();
		Acc a = byTag.get(tag);
		if (a == null) {
			a = new Acc(tag, interval);
			byTag.put(tag, a);
		}
		a.h.add(interval);
		a.intervals++;
		a.firstStartMs = Math.min(a.firstStartMs, interval.getStartTimeStamp());
		a.lastEndMs = Math.max(a.lastEndMs, interval.getEndTimeStamp());
	}

	static String quote(String s) {
		if (s == null)
			return "null";
		StringBuilder b = new StringBuilder("\"");
		for (char c : s.toCharArray()) {
			if (c == '"' || c == '\\')
				b.append('\\').append(c);
			else if (c < 0x20)
				b.append(String.format("\\u%04x", (int) c));
			else
				b.append(c);
		}
		return b.append('"').toString();
	}

	static String json(Acc a, String file) {
		Histogram h = a.h;
		StringBuilder b = new StringBuilder("{");
		if (file != null)
			b.append("\"file\":").append(quote(file)).append(',');
		b.append("\"tag\":").append(quote(a.tag));
		b.append(",\"intervals\":").append(a.intervals);
		b.append(",\"start_ms\":").append(a.firstStartMs);
		b.append(",\"end_ms\":").append(a.lastEndMs);
		b.append(",\"count\":").append(h.getTotalCount());
		b.append(",\"min\":").append(h.getMinValue());
		b.append(",\"max\":").append(h.getMaxValue());
		b.append(",\"mean\":").append(h.getMean());
		b.append(",\"stddev\":").append(h.getStdDeviation());
		b.append(",\"sigfigs\":").append(h.getNumberOfSignificantValueDigits());
		b.append(",\"lowest\":").append(h.getLowestDiscernibleValue());
		b.append(",\"percentiles\":{");
		for (int i = 0; i < PERCENTILES.length; i++) {
			if (i > 0)
				b.append(',');
			b.append('"').append(PERCENTILES[i]).append("\":")
				.append(h.getValueAtPercentile(Double.parseDouble(PERCENTILES[i])));
		}
		return b.append("}}").toString();
	}

	/* Prints one JSON line per tag, the untagged one first, then by tag name; with a
	 * "file" member when file is not null. */
	void print(PrintStream out, String file) {
		List<Acc> all = new ArrayList<>(byTag.values());
		all.sort(Comparator.comparing((Acc a) -> a.tag, Comparator.nullsFirst(Comparator.naturalOrder())));
		for (Acc a : all)
			out.println(json(a, file));
		out.flush();
	}
}
