/*
 * RecordValues.java: records latencies with Java HdrHistogram, as `fallout hdr record`
 * reads them (one per line: "VALUE" or "TAG VALUE", integers in ns), into one
 * auto-resizing Histogram(SIGFIGS) per tag, and prints the statistics per tag as JSON
 * lines (see HdrStats.java): what reading fallout's recorded log must give.
 *
 *   java -cp hdrhistogram.jar:DIR RecordValues FILE SIGFIGS
 */
import java.io.BufferedReader;
import java.io.FileReader;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

import org.HdrHistogram.Histogram;

public final class RecordValues {
	/* The program, for main and for Batch: prints to out, returns the exit status. */
	static int run(String[] args, PrintStream out) throws Exception {
		if (args.length != 2) {
			System.err.println("usage: RecordValues FILE SIGFIGS");
			return 2;
		}
		int sigfigs = Integer.parseInt(args[1]);
		Map<String, Histogram> byTag = new LinkedHashMap<>();
		try (BufferedReader in = new BufferedReader(new FileReader(args[0]))) {
			String line;
			while ((line = in.readLine()) != null) {
				line = line.trim();
				if (line.isEmpty() || line.startsWith("#"))
					continue;
				String[] f = line.split("[ \t]+");
				String tag = f.length == 2 ? f[0] : null;
				long v = Long.parseLong(f[f.length - 1]);
				Histogram h = byTag.get(tag);
				if (h == null) {
					h = new Histogram(sigfigs);
					h.setTag(tag);
					byTag.put(tag, h);
				}
				h.recordValue(v);
			}
		}
		HdrStats stats = new HdrStats();
		for (Histogram h : byTag.values())
			stats.add(h);
		stats.print(out, null);
		return 0;
	}

	public static void main(String[] args) throws Exception {
		System.exit(run(args, System.out));
	}
}
