/*
 * GenLog.java: writes an interval log with Java HdrHistogram's HistogramLogWriter (the
 * reference implementation) and prints, as one JSON line per tag, the statistics of the
 * intervals it recorded merged per tag (see HdrStats.java): what any reader of the log
 * must find.
 *
 *   java -cp hdrhistogram.jar:DIR GenLog SCENARIO FILE [SEED]
 *
 * Scenarios (values are deterministic: java.util.Random with fixed seeds):
 *   mixed     StartTime and BaseTime, relative timestamps, a comment between intervals;
 *             untagged and tagged intervals with fixed and auto-resizing ranges, 0 to 5
 *             significant digits, a lowest discernible value of 1000 (and values below
 *             it), counts, coordinated-omission correction, empty intervals, and values
 *             up to 2^62 - 1; SEED (default 42) varies the values, not the times,
 *             so logs of several seeds are like those of several client nodes;
 *   absolute  StartTime only, absolute timestamps;
 *   bare      no StartTime, no BaseTime: relative timestamps from 0.
 */
import java.io.PrintStream;
import java.util.Random;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

public final class GenLog {
	private final HistogramLogWriter w;
	private final HdrStats stats = new HdrStats();

	private GenLog(String path) throws Exception {
		w = new HistogramLogWriter(new PrintStream(path, "US-ASCII"));
	}

	/* A latency-like value: median m, spread s (log-normal), at least 0. */
	static long lognormal(Random r, double m, double s) {
		return (long) Math.max(0, m * Math.exp(r.nextGaussian() * s));
	}

	private void emit(Histogram h, String tag, long startMs, long endMs) {
		h.setTag(tag);
		h.setStartTimeStamp(startMs);
		h.setEndTimeStamp(endMs);
		w.outputIntervalHistogram(h);
		stats.add(h);
	}

	private void mixed(long seed) {
		long start = 1700000000123L;
		w.outputLogFormatVersion();
		w.outputComment("written by tests/java/GenLog.java (scenario mixed)");
		w.outputStartTime(start);
		w.setBaseTime(start);
		w.outputBaseTime(start);
		w.outputLegend();
		Random r = new Random(seed);
		for (int i = 0; i < 6; i++) {
			long t0 = start + 5000L * i + (i % 3), t1 = t0 + 5000;
			if (i == 3)
				w.outputComment("half way");

			/* untagged: a fixed range of one hour in ns, 3 digits */
			Histogram u = new Histogram(1, 3_600_000_000_000L, 3);
			for (int k = 0; k < 2000 + 500 * i; k++)
				u.recordValue(Math.min(3_600_000_000_000L, lognormal(r, 2e6, 0.8)));
			if (i == 3)
				u.recordValue(3_599_999_999_999L);
			emit(u, null, t0, t1);

			/* read: auto-resizing, 2 digits; one empty interval, counts, CO correction */
			Histogram rd = new Histogram(2);
			if (i != 2) {
				for (int k = 0; k < 3000; k++)
					rd.recordValue((long) Math.pow(10, 9 * r.nextDouble()));
				rd.recordValueWithCount(123_456_789L, 1000 + i);
				if (i == 5)
					rd.recordValueWithExpectedInterval(50_000_000L, 1_000_000L);
			}
			emit(rd, "read", t0, t1);

			/* write: 5 digits, a fixed range of 1 s */
			Histogram wr = new Histogram(1, 1_000_000_000L, 5);
			for (int k = 0; k < 1500; k++)
				wr.recordValue(Math.min(1_000_000_000L, lognormal(r, 5e6, 0.5)));
			emit(wr, "write", t0, t1);

			/* large values, 4 digits, auto-resizing, in some intervals only */
			if (i == 0 || i == 3 || i == 5) {
				Histogram big = new Histogram(4);
				for (int k = 0; k < 500; k++)
					big.recordValue(1L << (20 + r.nextInt(42)));
				big.recordValue(Long.MAX_VALUE / 2);
				big.recordValueWithCount(1L << 61, 7);
				emit(big, "phase1.block8--huge--success", t0, t1);
			}

			/* lowest discernible value 1000; values below it (and 0) share bucket 0 */
			Histogram c = new Histogram(1000, 1_000_000_000_000L, 3);
			for (int k = 0; k < 800; k++)
				c.recordValue(lognormal(r, 1e5, 1.5));
			if (i == 4) {
				c.recordValue(0);
				c.recordValue(300);
			}
			emit(c, "coarse", t0, t1);

			/* few digits */
			Histogram s0 = new Histogram(0);
			Histogram s1 = new Histogram(1);
			for (int k = 0; k < 300; k++) {
				s0.recordValue(lognormal(r, 1e4, 1.0));
				s1.recordValue(lognormal(r, 1e4, 1.0));
			}
			emit(s0, "sig0", t0, t1);
			emit(s1, "sig1", t0, t1);
		}
	}

	private void absolute() {
		long start = 1600000000000L;
		w.outputLogFormatVersion();
		w.outputStartTime(start);
		w.outputLegend();
		Random r = new Random(7);
		for (int i = 0; i < 4; i++) {
			long t0 = start + 1000L * i + 250, t1 = t0 + 1000;
			Histogram u = new Histogram(3);
			Histogram a = new Histogram(3);
			for (int k = 0; k < 1000; k++) {
				u.recordValue(lognormal(r, 1e6, 0.3));
				a.recordValue(lognormal(r, 3e5, 0.6));
			}
			emit(u, null, t0, t1);
			emit(a, "abs", t0, t1);
		}
	}

	private void bare() {
		w.outputLogFormatVersion();
		w.outputLegend();
		Random r = new Random(3);
		for (int i = 0; i < 3; i++) {
			Histogram u = new Histogram(1, 60_000_000_000L, 3);
			for (int k = 0; k < 1000; k++)
				u.recordValue(lognormal(r, 1e6, 1.0));
			emit(u, null, 2000L * i, 2000L * (i + 1));
		}
	}

	/* The program, for main and for Batch: prints to out, returns the exit status. */
	static int run(String[] args, PrintStream out) throws Exception {
		if (args.length != 2 && args.length != 3) {
			System.err.println("usage: GenLog mixed|absolute|bare FILE [SEED]");
			return 2;
		}
		GenLog g = new GenLog(args[1]);
		switch (args[0]) {
		case "mixed": g.mixed(args.length > 2 ? Long.parseLong(args[2]) : 42); break;
		case "absolute": g.absolute(); break;
		case "bare": g.bare(); break;
		default:
			System.err.println("GenLog: unknown scenario '" + args[0] + "'");
			return 2;
		}
		g.w.close();
		g.stats.print(out, null);
		return 0;
	}

	public static void main(String[] args) throws Exception {
		System.exit(run(args, System.out));
	}
}
