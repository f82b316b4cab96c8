package org.bnb4j.examples;

import org.bnb4j.examples.bench.NoisyNeighbour;
import org.bnb4j.examples.lm.CharCorpus;
import org.bnb4j.examples.lm.ReportWriter;
import org.bnb4j.examples.lm.RunResult;
import org.bnb4j.examples.lm.Trainer;
import org.bnb4j.examples.lm.Updaters;
import org.bnb4j.Bnb4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The main job: trains a character-level LSTM language model on the Java sources of DL4J's nn module
 * (read from its sources jar on Maven Central) with DL4J's Adam and with Adam8bit, same seed and same
 * batches, in lockstep (one training step of each in turn, so that their step times compare), and writes a report folder (loss curves, state memory and step time charts, Markdown
 * summary). {@code --scale-demo} instead shows a model whose 32-bit Adam state does not fit a memory
 * budget while its 8-bit state does.
 */
@Command(name = "train-comparison", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a char-LSTM with 32-bit and 8-bit optimizers side by side and write a report.")
public final class TrainComparison implements Callable<Integer> {
    @Option(names = "--updaters", split = ",", completionCandidates = Updaters.Names.class,
            description = "comma-separated updaters (default: ${DEFAULT-VALUE}); any of: ${COMPLETION-CANDIDATES}")
    List<String> updaters = List.of("adam", "adam8bit");
    @Option(names = "--steps", description = "training steps per updater (default: ${DEFAULT-VALUE})")
    int steps = 250;
    @Option(names = "--hidden", description = "LSTM units per layer (default: ${DEFAULT-VALUE})")
    int hidden = 128;
    @Option(names = "--layers", description = "LSTM layers (default: ${DEFAULT-VALUE})")
    int layers = 1;
    @Option(names = "--batch", description = "sequences per minibatch (default: ${DEFAULT-VALUE})")
    int batch = 32;
    @Option(names = "--seq", description = "characters per sequence (default: ${DEFAULT-VALUE})")
    int seq = 50;
    @Option(names = "--lr", description = "learning rate (default: ${DEFAULT-VALUE})")
    double lr = 2e-3;
    @Option(names = "--eval-every", description = "validation every N steps (default: ${DEFAULT-VALUE})")
    int evalEvery = 25;
    @Option(names = "--corpus-chars", description = "characters of corpus to use (default: ${DEFAULT-VALUE})")
    int corpusChars = 1_000_000;
    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed = 42;
    @Option(names = "--out", description = "report folder (default: ${DEFAULT-VALUE})")
    Path out = Path.of("reports", "char-lstm");
    @Option(names = "--noisy", arity = "0..1", fallbackValue = "1", paramLabel = "K",
            description = "train beside K other processes that each spin a core, as a busy neighbour on a shared host would (K: 1 when not given)")
    int noisy;
    @Option(names = "--no-progress", description = "no progress bar (for logs)")
    boolean noProgress;
    @Option(names = "--scale-demo", description = "run the memory scale demo instead: Adam, Adam8bit and paged Adam8bit under memory limits")
    boolean scaleDemo;
    @Option(names = "--scale-width", description = "width of the scale demo's dense layers (default: ${DEFAULT-VALUE}: 210M parameters)")
    int scaleWidth = 10240;
    @Option(names = "--scale-steps", description = "training steps of each scale demo run (default: ${DEFAULT-VALUE})")
    int scaleSteps = 3;
    @Option(names = "--paged-dir", description = "directory of paged state in the scale demo (default: the system temporary directory)")
    String pagedDir = System.getProperty("java.io.tmpdir");

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command; returns the exit code (2 for bad options, with a message). */
    public static int run(String... args) {
        return new CommandLine(new TrainComparison()).execute(args);
    }

    void validate() {
        // the usage printed under the error shows defaults: those of a fresh command, not this one's values
        CommandLine.Model.CommandSpec spec = new CommandLine(new TrainComparison()).getCommandSpec();
        List<String> bad = new ArrayList<>();
        if (steps < 1) bad.add("--steps must be >= 1");
        if (hidden < 1 || layers < 1 || batch < 1 || seq < 2) bad.add("--hidden, --layers, --batch must be >= 1 and --seq >= 2");
        if (!(lr > 0 && lr < Double.POSITIVE_INFINITY)) bad.add("--lr must be finite and > 0");
        if (evalEvery < 1) bad.add("--eval-every must be >= 1");
        if (noisy < 0 || noisy > 64) bad.add("--noisy must be 0..64");
        if (corpusChars < 10_000) bad.add("--corpus-chars must be >= 10000");
        // the held-out 5% must hold a sequence, and one minibatch's one-hot array must be an array
        else if (seq + 2 > corpusChars / 20) bad.add("--seq must be at most the held-out text (5% of --corpus-chars: " + corpusChars / 20 + ") minus 2");
        if ((long) batch * seq > 5_000_000L) bad.add("--batch x --seq must be at most 5,000,000 characters per minibatch (its one-hot array has batch x vocabulary x seq floats)");
        if (scaleWidth < 64 || scaleSteps < 1) bad.add("--scale-width must be >= 64 and --scale-steps >= 1");
        if (updaters.isEmpty()) bad.add("--updaters needs at least one name");
        Set<String> seen = new HashSet<>();
        for (String u : updaters) {
            if (!Updaters.NAMES.contains(u.toLowerCase(Locale.ROOT))) bad.add("unknown updater '" + u + "' (choose from " + String.join(", ", Updaters.NAMES) + ")");
            else if (!seen.add(u.toLowerCase(Locale.ROOT))) bad.add("--updaters names '" + u + "' twice");
        }
        if (scaleDemo) {
            String pagedProblem = directoryProblem(Path.of(pagedDir));
            if (pagedProblem != null) bad.add("--paged-dir " + pagedProblem);
        } else {
            String outProblem = directoryProblem(out);
            if (outProblem != null) bad.add("--out " + outProblem);
        }
        if (!bad.isEmpty()) throw new CommandLine.ParameterException(spec.commandLine(), String.join("; ", bad));
    }

    /**
     * Why dir cannot take the run's files, or null; checked before any training, so that a bad path
     * does not cost a whole run. A missing directory is fine when its nearest existing ancestor is a
     * writable directory (the writer creates it); nothing is created here.
     */
    static String directoryProblem(Path dir) {
        if (dir.toString().isEmpty()) return "is empty";
        Path p = dir.toAbsolutePath();
        if (java.nio.file.Files.exists(p)) {
            if (!java.nio.file.Files.isDirectory(p)) return dir + " is not a directory";
            return java.nio.file.Files.isWritable(p) ? null : dir + " is not writable";
        }
        Path a = p.getParent();
        while (a != null && !java.nio.file.Files.exists(a)) a = a.getParent();
        if (a == null || !java.nio.file.Files.isDirectory(a) || !java.nio.file.Files.isWritable(a)) {
            return dir + " cannot be created (" + a + " is not a writable directory)";
        }
        return null;
    }

    @Override
    public Integer call() throws Exception {
        validate();
        if (scaleDemo) return ScaleDemo.run(scaleWidth, scaleSteps, pagedDir);
        System.out.println("bnb4j char-LSTM comparison: kernels = " + Bnb4j.kernels());
        CharCorpus corpus = new CharCorpus(CharCorpus.dl4jSources(corpusChars), 0.05);
        Trainer.Options o = new Trainer.Options();
        o.hidden = hidden;
        o.layers = layers;
        o.steps = steps;
        o.batch = batch;
        o.seq = seq;
        o.learningRate = lr;
        o.evalEvery = evalEvery;
        o.seed = seed;
        o.progress = !noProgress;
        System.out.printf(Locale.ROOT, "corpus: %,d characters of DL4J's nn sources, vocabulary %d; model: %d x LSTM(%d); %d steps of %d x %d characters%n",
                corpus.length(), corpus.vocabSize(), layers, hidden, steps, batch, seq);
        Trainer trainer = new Trainer(corpus, o);
        List<RunResult> runs;
        try (NoisyNeighbour neighbour = noisy > 0 ? new NoisyNeighbour(noisy, 7200) : null) {
            if (neighbour != null) System.out.println("noisy neighbour: " + neighbour.processes() + " process(es) spinning a core each");
            runs = trainer.train(updaters);
        }
        for (RunResult r : runs) {
            System.out.printf(Locale.ROOT, "%-12s validation loss %.4f (perplexity %.3f), state %.2f MB (%.2f B/param), optimizer step %.2f ms, "
                            + "training step %.1f ms median (%.1f ms mean)%n",
                    r.updater, r.finalValidationLoss(), r.perplexity(), r.stateBytes / 1e6, (double) r.stateBytes / r.numParams, r.optimizerStepMs,
                    r.fitMsMedian, r.fitMsPerStep);
        }
        String setup = String.format(Locale.ROOT, "Setup: %,d characters of DL4J nn sources (5%% held out), vocabulary %d, %d x LSTM(%d) + softmax "
                        + "(%,d parameters), %d steps (the updaters in lockstep), minibatch %d x %d characters, learning rate %s, seed %d, kernels: %s%s.",
                corpus.length(), corpus.vocabSize(), layers, hidden, runs.get(0).numParams, steps, batch, seq, lr, seed, Bnb4j.kernels(),
                noisy > 0 ? ", beside " + noisy + " process(es) spinning a core each" : "");
        ReportWriter.write(out, runs, setup);
        System.out.println("report: " + out.toAbsolutePath());
        return 0;
    }

}
