import java.io.File;
import org.apache.jmeter.reporters.ResultCollector;
import org.apache.jmeter.samplers.SampleResult;
import org.apache.jmeter.save.CSVSaveService;
import org.apache.jmeter.util.JMeterUtils;
import org.apache.jmeter.visualizers.Visualizer;

/**
 * Loads a CSV result file with JMeter's own reader (CSVSaveService.processSamples, what a listener's
 * "Browse..." runs) and prints one line per sample JMeter read, tab-separated:
 * SAMPLE, label, timeStamp, elapsed, latency, success, responseCode, bytes, threadName, groupThreads, url.
 * Usage: java -cp "<jmeter jars>" LoadJtl.java JMETER_HOME FILE
 */
public class LoadJtl {
    public static void main(String[] args) throws Exception {
        String home = args[0];
        JMeterUtils.setJMeterHome(home);
        JMeterUtils.loadJMeterProperties(new File(home, "bin/jmeter.properties").getPath());
        JMeterUtils.initLocale();
        ResultCollector collector = new ResultCollector();
        collector.setFilename(args[1]);
        final int[] count = {0};
        Visualizer printer = new Visualizer() {
            public void add(SampleResult r) {
                count[0]++;
                System.out.println(String.join("\t", "SAMPLE", r.getSampleLabel(), Long.toString(r.getTimeStamp()), Long.toString(r.getTime()),
                    Long.toString(r.getLatency()), Boolean.toString(r.isSuccessful()), r.getResponseCode(), Integer.toString(r.getBytes()),
                    r.getThreadName(), Integer.toString(r.getGroupThreads()), String.valueOf(r.getUrlAsString())));
            }
            public boolean isStats() { return false; }
        };
        CSVSaveService.processSamples(args[1], printer, collector);
        System.out.println("LOADED " + count[0]);
    }
}
