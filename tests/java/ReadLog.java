/*
 * ReadLog.java: reads interval logs with Java HdrHistogram's HistogramLogReader (the
 * reference implementation), merges each file's intervals per tag and prints one JSON
 * line of statistics per file and tag (see HdrStats.java), with a "file" member.
 *
 *   java -cp hdrhistogram.jar:DIR ReadLog FILE...
 *
 *   java -cp hdrhistogram.jar:DIR ReadLog --merge FILE...
 *
 * A file Java cannot read gives a line {"file": ..., "error": "..."} instead; the exit
 * status is then 1. Several files in one run save the JVM's start-up in tests. With
 * --merge, the intervals of all the files are merged per tag, as one log (no "file").
 */
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;

import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

public final class ReadLog {
	static void read(String path, HdrStats stats) throws Exception {
		HistogramLogReader r = new HistogramLogReader(path);
		try {
			EncodableHistogram e;
			while ((e = r.nextIntervalHistogram()) != null) {
				if (!(e instanceof Histogram))
					throw new IllegalStateException("not an integer histogram: " + e.getClass().getName());
				stats.add((Histogram) e);
			}
		} finally {
			r.close();
		}
	}

	/* The program, for main and for Batch: prints to out, returns the exit status. */
	static int run(String[] args, PrintStream out) {
		if (args.length == 0) {
			System.err.println("usage: ReadLog [--merge] FILE...");
			return 2;
		}
		int status = 0;
		boolean merge = args[0].equals("--merge");
		HdrStats merged = new HdrStats();
		for (int i = merge ? 1 : 0; i < args.length; i++) {
			String path = args[i];
			HdrStats stats = merge ? merged : new HdrStats();
			try {
				read(path, stats);
			} catch (Exception | Error e) {
				StringWriter s = new StringWriter();
				e.printStackTrace(new PrintWriter(s));
				out.println("{\"file\":" + HdrStats.quote(path) + ",\"error\":" + HdrStats.quote(s.toString()) + "}");
				status = 1;
				continue;
			}
			if (!merge)
				stats.print(out, path);
		}
		if (merge && status == 0)
			merged.print(out, null);
		out.flush();
		return status;
	}

	public static void main(String[] args) {
		System.exit(run(args, System.out));
	}
}
