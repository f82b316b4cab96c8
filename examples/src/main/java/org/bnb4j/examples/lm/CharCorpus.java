package org.bnb4j.examples.lm;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * A character-level corpus: its text, a vocabulary of the characters it uses (characters outside
 * printable ASCII map to one "other" symbol), a train/validation split and one-hot minibatches
 * of random windows, reproducible for a seed.
 */
public final class CharCorpus {
    /** A class of DL4J's nn module whose sources jar is the default corpus (a test-scope-free dependency). */
    static final String DL4J_SOURCE_PROBE = "org/deeplearning4j/nn/conf/NeuralNetConfiguration.java";
    static final char OTHER = '\u00bf';

    private final String text;
    private final char[] vocab;
    private final int[] index = new int[65536];
    private final int[] encoded;
    private final int trainEnd;

    public CharCorpus(String text, double validationFraction) {
        if (text == null || text.length() < 1000) throw new IllegalArgumentException("corpus too small: needs at least 1000 characters");
        if (!(validationFraction > 0 && validationFraction < 0.5)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 0.5), got " + validationFraction);
        }
        StringBuilder clean = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) clean.append(normalize(text.charAt(i)));
        this.text = clean.toString();
        TreeSet<Character> chars = new TreeSet<>();
        for (int i = 0; i < this.text.length(); i++) chars.add(this.text.charAt(i));
        vocab = new char[chars.size()];
        int k = 0;
        for (char c : chars) vocab[k++] = c;
        java.util.Arrays.fill(index, -1);
        for (int i = 0; i < vocab.length; i++) index[vocab[i]] = i;
        encoded = new int[this.text.length()];
        for (int i = 0; i < encoded.length; i++) encoded[i] = index[this.text.charAt(i)];
        trainEnd = (int) (encoded.length * (1 - validationFraction));
    }

    static char normalize(char c) {
        if (c == '\n' || c == '\t') return c == '\t' ? ' ' : c;
        if (c == '\r') return '\n';
        return c >= 32 && c < 127 ? c : OTHER;
    }

    /**
     * The Java sources of DL4J's nn module, read from its published sources jar on the classpath,
     * in entry-name order, at most {@code maxChars} characters.
     */
    public static String dl4jSources(int maxChars) throws IOException {
        URL probe = CharCorpus.class.getClassLoader().getResource(DL4J_SOURCE_PROBE);
        if (probe == null || !"jar".equals(probe.getProtocol())) {
            throw new IOException("the corpus (deeplearning4j-nn sources jar) is not on the classpath");
        }
        JarURLConnection conn = (JarURLConnection) probe.openConnection();
        conn.setUseCaches(false);
        StringBuilder sb = new StringBuilder();
        try (JarFile jar = conn.getJarFile()) {
            List<String> names = new ArrayList<>();
            for (JarEntry e : Collections.list(jar.entries())) if (e.getName().endsWith(".java")) names.add(e.getName());
            Collections.sort(names);
            for (String name : names) {
                try (InputStream in = jar.getInputStream(jar.getJarEntry(name))) {
                    sb.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                if (sb.length() >= maxChars) break;
            }
        }
        return sb.length() > maxChars ? sb.substring(0, maxChars) : sb.toString();
    }

    public int vocabSize() {
        return vocab.length;
    }

    public int length() {
        return encoded.length;
    }

    public int trainLength() {
        return trainEnd;
    }

    public int validationLength() {
        return encoded.length - trainEnd;
    }

    public char charAt(int vocabIndex) {
        return vocab[vocabIndex];
    }

    public int indexOf(char c) {
        int i = index[normalize(c)];
        if (i < 0) throw new IllegalArgumentException("character '" + c + "' is not in the vocabulary");
        return i;
    }

    /** A minibatch of {@code batch} random windows of length {@code seq} from the train or validation part. */
    public DataSet batch(int batch, int seq, boolean validation, Random rng) {
        int from = validation ? trainEnd : 0, to = validation ? encoded.length : trainEnd;
        if (to - from < seq + 2) throw new IllegalArgumentException("sequence length " + seq + " exceeds the " + (validation ? "validation" : "train") + " text");
        int v = vocab.length;
        float[] f = new float[batch * v * seq], l = new float[batch * v * seq];
        for (int b = 0; b < batch; b++) {
            int start = from + rng.nextInt(to - from - seq - 1);
            for (int t = 0; t < seq; t++) {
                // [batch, vocab, time] in C order
                f[(b * v + encoded[start + t]) * seq + t] = 1f;
                l[(b * v + encoded[start + t + 1]) * seq + t] = 1f;
            }
        }
        INDArray features = Nd4j.create(f, new long[]{batch, v, seq}, 'c').castTo(DataType.FLOAT);
        INDArray labels = Nd4j.create(l, new long[]{batch, v, seq}, 'c').castTo(DataType.FLOAT);
        return new DataSet(features, labels);
    }
}
