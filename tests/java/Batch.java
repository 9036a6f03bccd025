/*
 * Batch.java: runs many of the test programs in one JVM, to save its start-up (the tests
 * run dozens of Java commands). JOBS is a file with one job per line, tab-separated:
 *
 *   OUT <TAB> PROGRAM <TAB> ARG...
 *
 * PROGRAM is GenLog, ReadLog or RecordValues (their output goes to OUT), or
 * HistogramLogProcessor (Java's org.HdrHistogram.HistogramLogProcessor, run as its main
 * runs it; it writes its own -o files, and OUT stays empty). Each job's exit status, or
 * the exception that ended it, goes to OUT.status. Jobs run one after the other; a
 * failed job does not stop the others.
 *
 *   java -cp hdrhistogram.jar:DIR Batch JOBS
 */
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;

import org.HdrHistogram.HistogramLogProcessor;

public final class Batch {
	static int job(String program, String[] args, PrintStream out) throws Exception {
		switch (program) {
		case "GenLog": return GenLog.run(args, out);
		case "ReadLog": return ReadLog.run(args, out);
		case "RecordValues": return RecordValues.run(args, out);
		case "HistogramLogProcessor":
			new HistogramLogProcessor(args).run();
			return 0;
		default: throw new IllegalArgumentException("Batch: unknown program '" + program + "'");
		}
	}

	public static void main(String[] argv) throws Exception {
		if (argv.length != 1) {
			System.err.println("usage: Batch JOBS");
			System.exit(2);
		}
		for (String line : Files.readAllLines(Paths.get(argv[0]), StandardCharsets.UTF_8)) {
			if (line.isEmpty())
				continue;
			String[] f = line.split("\t", -1);
			String status;
			try (PrintStream out = new PrintStream(new FileOutputStream(f[0]), false, "UTF-8")) {
				status = Integer.toString(job(f[1], Arrays.copyOfRange(f, 2, f.length), out));
			} catch (Exception | Error e) {
				StringWriter s = new StringWriter();
				e.printStackTrace(new PrintWriter(s));
				status = s.toString();
			}
			Files.write(Paths.get(f[0] + ".status"), status.getBytes(StandardCharsets.UTF_8));
		}
	}
}
