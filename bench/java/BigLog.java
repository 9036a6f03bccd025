/*
 * BigLog.java: writes a large interval log with Java HdrHistogram's HistogramLogWriter,
 * for bench/hdr.sh: one-second intervals, each with an untagged histogram and three tagged
 * ones (read, write, scan), until the file holds at least MB megabytes (10^6 bytes).
 *
 *   java -cp hdrhistogram.jar:DIR BigLog FILE MB
 *
 * The histograms look like a load test's: latencies in ns, 3 significant digits; the
 * untagged ones and `scan` have a fixed range of one hour (as jHiccup's), `read` and
 * `write` auto-resize (as NoSQLBench's). Values are deterministic (fixed seed).
 */
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Random;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

public final class BigLog {
	/* Counts the bytes written through it. */
	static final class Counting extends FilterOutputStream {
		long n;
		Counting(OutputStream o) { super(o); }
		@Override public void write(int b) throws IOException { out.write(b); n++; }
		@Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); n += len; }
	}

	public static void main(String[] args) throws Exception {
		if (args.length != 2) {
			System.err.println("usage: BigLog FILE MB");
			System.exit(2);
		}
		long target = (long) (Double.parseDouble(args[1]) * 1e6);
		Counting c = new Counting(new BufferedOutputStream(new FileOutputStream(args[0]), 1 << 16));
		HistogramLogWriter w = new HistogramLogWriter(new PrintStream(c, false, "US-ASCII"));
		long start = 1700000000000L;
		w.outputLogFormatVersion();
		w.outputComment("written by bench/java/BigLog.java");
		w.outputStartTime(start);
		w.setBaseTime(start);
		w.outputBaseTime(start);
		w.outputLegend();
		String[] tags = {null, "read", "write", "scan"};
		double[] medians = {2e6, 8e5, 3e6, 4e7};
		Random r = new Random(1);
		/* a pool of log-normal factors (median 1), drawn from at random offsets */
		double[] pool = new double[1 << 20];
		for (int i = 0; i < pool.length; i++)
			pool[i] = Math.exp(r.nextGaussian() * 0.9);
		Histogram[] hs = {
			new Histogram(1, 3_600_000_000_000L, 3), new Histogram(3), new Histogram(3),
			new Histogram(1, 3_600_000_000_000L, 3),
		};
		long intervals = 0;
		for (long t = start; c.n < target; t += 1000) {
			for (int k = 0; k < tags.length; k++) {
				Histogram h = hs[k];
				h.reset();
				int off = r.nextInt(pool.length - 4000);
				for (int i = 0; i < 4000; i++)
					h.recordValue(Math.max(1, (long) (medians[k] * pool[off + i])));
				h.setTag(tags[k]);
				h.setStartTimeStamp(t);
				h.setEndTimeStamp(t + 1000);
				w.outputIntervalHistogram(h);
				intervals++;
			}
		}
		w.close();
		System.err.printf("BigLog: %d intervals, %.1f MB%n", intervals, c.n / 1e6);
	}
}
