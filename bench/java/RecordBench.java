/*
 * RecordBench.java: how fast Java HdrHistogram records, for bench/hdr.sh to set beside
 * bench/record_bench.c. Records the same values as the C benchmark (a splitmix64 sequence
 * shaped as ((r >>> 40) + 1) << (r & 15), 1 to 2^39 ns) into a Histogram(1, 1 h in ns, 3):
 * one warm-up pass (the JIT compiles the loop), then PASSES passes over 2^20 precomputed
 * values, best of 3.
 *
 *   java -cp hdrhistogram.jar:DIR RecordBench [PASSES]   (default 100: 104,857,600 values)
 *
 * Prints `java Histogram.recordValue: X.XX ns/value` and a checksum line.
 */
import org.HdrHistogram.Histogram;

public final class RecordBench {
	static final int N = 1 << 20;

	static long splitmix64(long x) {
		long z = x + 0x9e3779b97f4a7c15L;
		z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
		z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
		return z ^ (z >>> 31);
	}

	static void pass(Histogram h, long[] v) {
		for (int i = 0; i < v.length; i++)
			h.recordValue(v[i]);
	}

	public static void main(String[] args) {
		int passes = args.length > 0 ? Integer.parseInt(args[0]) : 100;
		long[] v = new long[N];
		for (int i = 0; i < N; i++) {
			long r = splitmix64(i);
			v[i] = ((r >>> 40) + 1) << (r & 15);
		}
		Histogram h = new Histogram(1, 3_600_000_000_000L, 3);
		pass(h, v);
		double best = Double.MAX_VALUE;
		for (int round = 0; round < 3; round++) {
			h.reset();
			long t0 = System.nanoTime();
			for (int p = 0; p < passes; p++)
				pass(h, v);
			long t1 = System.nanoTime();
			best = Math.min(best, (double) (t1 - t0) / ((double) passes * N));
		}
		System.out.printf("java Histogram.recordValue: %.2f ns/value%n", best);
		System.out.printf("checksum: count %d, p99 %d, max %d%n", h.getTotalCount(), h.getValueAtPercentile(99), h.getMaxValue());
	}
}
