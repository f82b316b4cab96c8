package org.bnb4j.examples.lm;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/** Trains the char-LSTM with each updater on a fixed data order and records what RunResult holds. */
public final class Trainer {
    public static final class Options {
        public int hidden = 128, layers = 1, steps = 250, batch = 32, seq = 50, evalEvery = 25, evalBatches = 4;
        public double learningRate = 2e-3;
        public long seed = 42;
        public boolean progress = true;
    }

    private final CharCorpus corpus;
    private final Options o;

    public Trainer(CharCorpus corpus, Options o) {
        this.corpus = corpus;
        this.o = o;
    }

    /**
     * Trains one char-LSTM per updater, in lockstep: each step runs every updater's training iteration
     * once, in an order that reverses from step to step, so that whatever the host does meanwhile (a
     * busy neighbour, ND4J's spinning threads, the JIT) falls on every updater alike and their
     * training-step times compare. Each updater has its own network, data order and evaluation batches
     * (the same seed for all), so its results are those of training it alone.
     */
    public List<RunResult> train(List<String> updaterNames) {
        List<Run> runs = new ArrayList<>();
        for (String name : updaterNames) runs.add(new Run(name));
        ProgressBarBuilder pbb = new ProgressBarBuilder().setTaskName(String.join(",", updaterNames))
                .setInitialMax((long) o.steps * runs.size()).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500);
        try (ProgressBar pb = o.progress ? pbb.build() : null) {
            for (int step = 1; step <= o.steps; step++) {
                for (int k = 0; k < runs.size(); k++) {
                    Run run = runs.get(step % 2 == 1 ? k : runs.size() - 1 - k);
                    double loss = run.step(step);
                    if (pb != null) {
                        pb.step();
                        pb.setExtraMessage(String.format(Locale.ROOT, "%s loss %.3f", run.result.updater, loss));
                    }
                }
            }
        }
        List<RunResult> results = new ArrayList<>();
        for (Run run : runs) results.add(run.finish());
        return results;
    }

    /** One updater's network, data order and measurements while it trains. */
    private final class Run {
        final IUpdater updater;
        final MultiLayerNetwork net;
        final RunResult result;
        final Random data = new Random(o.seed); // the same batches for every updater
        final DataSet[] evalSets = new DataSet[o.evalBatches];

        Run(String updaterName) {
            updater = Updaters.create(updaterName, o.learningRate);
            net = CharLstm.build(corpus.vocabSize(), o.hidden, o.layers, updater, o.seed);
            result = new RunResult(updaterName);
            result.numParams = net.numParams();
            Random evalRng = new Random(o.seed + 1);
            for (int i = 0; i < evalSets.length; i++) evalSets[i] = corpus.batch(o.batch, o.seq, true, evalRng);
        }

        /** Training step {@code step} (1-based): fit one batch, record its loss and time; validation when due. */
        double step(int step) {
            DataSet ds = corpus.batch(o.batch, o.seq, false, data);
            long t0 = System.nanoTime();
            net.fit(ds);
            result.fitMs.add((System.nanoTime() - t0) / 1e6);
            double loss = net.score() / o.seq; // DL4J sums the loss over time steps
            result.trainLoss.add(new double[]{step, loss});
            if (step % o.evalEvery == 0 || step == o.steps) result.validationLoss.add(new double[]{step, evaluate(net, evalSets, null) / o.seq});
            return loss;
        }

        RunResult finish() {
            Evaluation acc = new Evaluation(corpus.vocabSize());
            evaluate(net, evalSets, acc);
            result.validationAccuracy = acc.accuracy();
            double[] ms = result.fitMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            result.fitMsPerStep = Arrays.stream(ms).sum() / ms.length;
            result.fitMsMedian = (ms[(ms.length - 1) / 2] + ms[ms.length / 2]) / 2;
            result.stateBytes = net.getUpdater().getStateViewArray() == null ? 0 : net.getUpdater().getStateViewArray().length() * 4L;
            result.optimizerStepMs = optimizerStepMs(updater, net.numParams());
            result.sample = sample(net, "public ", 160, new Random(o.seed));
            return result;
        }
    }

    /** Mean validation loss per sequence (DL4J's score); fills {@code eval} with next-character accuracy if given. */
    static double evaluate(MultiLayerNetwork net, DataSet[] sets, Evaluation eval) {
        double s = 0;
        for (DataSet d : sets) {
            s += net.score(d);
            if (eval != null) eval.evalTimeSeries(d.getLabels(), net.output(d.getFeatures()));
        }
        return s / sets.length;
    }

    /** Median time of one applyUpdater over all parameters as one block, on a fresh state of this updater. */
    static double optimizerStepMs(IUpdater config, long n) {
        INDArray view = Nd4j.create(DataType.FLOAT, 1, config.stateSize(n));
        GradientUpdater u = config.instantiate(view, true);
        INDArray grad = Nd4j.randn(DataType.FLOAT, 1, n).muli(0.01), g = grad.dup();
        double[] t = new double[15];
        for (int i = 0; i < t.length; i++) {
            g.assign(grad);
            long s = System.nanoTime();
            u.applyUpdater(g, i, 0);
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(t, 3, t.length);
        return t[3 + (t.length - 3) / 2];
    }

    /** Greedy-with-temperature sample of {@code len} characters after {@code prime}. */
    String sample(MultiLayerNetwork net, String prime, int len, Random rng) {
        net.rnnClearPreviousState();
        StringBuilder out = new StringBuilder(prime);
        INDArray in = Nd4j.zeros(DataType.FLOAT, 1, corpus.vocabSize(), prime.length());
        for (int t = 0; t < prime.length(); t++) in.putScalar(new long[]{0, corpus.indexOf(prime.charAt(t)), t}, 1f);
        INDArray o = net.rnnTimeStep(in);
        INDArray last = o.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(prime.length() - 1));
        for (int i = 0; i < len; i++) {
            int c = draw(last.toDoubleVector(), rng, 0.7);
            out.append(corpus.charAt(c));
            INDArray x = Nd4j.zeros(DataType.FLOAT, 1, corpus.vocabSize(), 1);
            x.putScalar(new long[]{0, c, 0}, 1f);
            last = net.rnnTimeStep(x).reshape(corpus.vocabSize());
        }
        net.rnnClearPreviousState();
        return out.toString();
    }

    static int draw(double[] p, Random rng, double temperature) {
        double[] w = new double[p.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            w[i] = Math.pow(Math.max(p[i], 1e-12), 1 / temperature);
            sum += w[i];
        }
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < w.length; i++) {
            u -= w[i];
            if (u <= 0) return i;
        }
        return w.length - 1;
    }
}
