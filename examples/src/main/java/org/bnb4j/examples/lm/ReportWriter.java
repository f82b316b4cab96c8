package org.bnb4j.examples.lm;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.CombinedDomainCategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes the report folder: loss curves and memory/time charts (PNG, JFreeChart) and a Markdown summary. */
public final class ReportWriter {
    public static final String LOSS_PNG = "loss.png";
    public static final String MEMORY_TIME_PNG = "memory_and_step_time.png";
    public static final String SUMMARY_MD = "summary.md";
    public static final String STEPS_CSV = "steps.csv";

    private ReportWriter() {}

    public static void write(Path dir, List<RunResult> runs, String setup) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        ChartUtils.saveChartAsPNG(dir.resolve(LOSS_PNG).toFile(), lossChart(runs), 1000, 600);
        ChartUtils.saveChartAsPNG(dir.resolve(MEMORY_TIME_PNG).toFile(), memoryTimeChart(runs), 1000, 600);
        Files.writeString(dir.resolve(SUMMARY_MD), summary(runs, setup), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(STEPS_CSV), stepsCsv(runs), StandardCharsets.UTF_8);
    }

    /** One row per updater and training step: its training loss and how long the step took. */
    static String stepsCsv(List<RunResult> runs) {
        StringBuilder sb = new StringBuilder("updater,step,train_loss,training_step_ms\n");
        for (RunResult r : runs) {
            for (int i = 0; i < r.trainLoss.size(); i++) {
                double ms = i < r.fitMs.size() ? r.fitMs.get(i) : Double.NaN;
                sb.append(String.format(Locale.ROOT, "%s,%d,%.6f,%.3f%n", r.updater, (long) r.trainLoss.get(i)[0], r.trainLoss.get(i)[1], ms));
            }
        }
        return sb.toString();
    }

    static JFreeChart lossChart(List<RunResult> runs) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (RunResult r : runs) {
            XYSeries train = new XYSeries(r.updater + " train (moving avg 10)");
            double[] window = new double[10];
            for (int i = 0; i < r.trainLoss.size(); i++) {
                window[i % 10] = r.trainLoss.get(i)[1];
                int k = Math.min(i + 1, 10);
                double s = 0;
                for (int j = 0; j < k; j++) s += window[j];
                train.add(r.trainLoss.get(i)[0], s / k);
            }
            XYSeries val = new XYSeries(r.updater + " validation");
            for (double[] p : r.validationLoss) val.add(p[0], p[1]);
            data.addSeries(train);
            data.addSeries(val);
        }
        NumberAxis x = new NumberAxis("training step"), y = new NumberAxis("loss (nats per character)");
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        Color[] palette = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd), new Color(0xff7f0e)};
        for (int i = 0; i < data.getSeriesCount(); i++) {
            boolean validation = i % 2 == 1;
            renderer.setSeriesPaint(i, palette[(i / 2) % palette.length]);
            renderer.setSeriesShapesVisible(i, validation);
            renderer.setSeriesStroke(i, validation ? new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[]{6f, 4f}, 0f)
                    : new BasicStroke(1.5f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("Char-LSTM on DL4J sources: loss per updater (same seed, same batches)", plot);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    static JFreeChart memoryTimeChart(List<RunResult> runs) {
        DefaultCategoryDataset mem = new DefaultCategoryDataset(), time = new DefaultCategoryDataset();
        for (RunResult r : runs) {
            mem.addValue(r.stateBytes / 1e6, "optimizer state (MB)", r.updater);
            time.addValue(r.optimizerStepMs, "optimizer step (ms)", r.updater);
        }
        CategoryPlot memPlot = new CategoryPlot(mem, null, new NumberAxis("state MB"), new BarRenderer());
        CategoryPlot timePlot = new CategoryPlot(time, null, new NumberAxis("ms per step"), new BarRenderer());
        style((BarRenderer) memPlot.getRenderer(), new Color(0x1f77b4), "%.2f MB");
        style((BarRenderer) timePlot.getRenderer(), new Color(0xd62728), "%.2f ms");
        CombinedDomainCategoryPlot plot = new CombinedDomainCategoryPlot(new CategoryAxis("updater"));
        plot.add(memPlot);
        plot.add(timePlot);
        plot.setBackgroundPaint(Color.WHITE);
        JFreeChart chart = new JFreeChart("Optimizer state memory and step time", plot);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static void style(BarRenderer r, Color c, String format) {
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setSeriesPaint(0, c);
        r.setMaximumBarWidth(0.25);
        r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new java.text.DecimalFormat("0.00")));
        r.setDefaultItemLabelsVisible(true);
    }

    static String summary(List<RunResult> runs, String setup) {
        StringBuilder sb = new StringBuilder("# Char-LSTM: 8-bit vs 32-bit optimizers\n\n").append(setup).append("\n\n");
        sb.append("| updater | params | final train loss (last 20) | validation loss | perplexity | next-char accuracy | optimizer state | bytes/param | optimizer step | training step (median / mean) |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (RunResult r : runs) {
            sb.append(String.format(Locale.ROOT, "| %s | %,d | %.4f | %.4f | %.3f | %.2f%% | %.2f MB | %.2f | %.2f ms | %.1f / %.1f ms |%n",
                    r.updater, r.numParams, r.finalTrainLoss(20), r.finalValidationLoss(), r.perplexity(), 100 * r.validationAccuracy,
                    r.stateBytes / 1e6, (double) r.stateBytes / r.numParams, r.optimizerStepMs, r.fitMsMedian, r.fitMsPerStep));
        }
        sb.append("\nOptimizer state: bytes of DL4J's updater state view. Optimizer step: median applyUpdater over all ")
                .append("parameters as one block. Training step: forward + backward + update; the updaters train in lockstep (one step of each in turn), so every one sees the same host conditions.\n\n");
        sb.append("Charts: [loss curves](").append(LOSS_PNG).append("), [memory and step time](").append(MEMORY_TIME_PNG).append(")\n\n");
        for (RunResult r : runs) {
            sb.append("Sample from the ").append(r.updater).append(" model:\n\n```java\n").append(r.sample).append("\n```\n\n");
        }
        return sb.toString();
    }
}
