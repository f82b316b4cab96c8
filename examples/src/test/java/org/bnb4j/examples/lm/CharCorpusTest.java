package org.bnb4j.examples.lm;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CharCorpusTest {

    @Test
    void loadsDl4jSourcesFromTheMavenSourcesJar() throws Exception {
        String text = CharCorpus.dl4jSources(50_000);
        assertEquals(50_000, text.length());
        assertTrue(text.contains("package org.deeplearning4j"), "it is DL4J's Java source");
        CharCorpus c = new CharCorpus(text, 0.1);
        assertTrue(c.vocabSize() > 40 && c.vocabSize() <= 96, "printable ASCII + newline + other: " + c.vocabSize());
        assertEquals(45_000, c.trainLength());
        assertEquals(5_000, c.validationLength());
        assertEquals('{', c.charAt(c.indexOf('{')));
    }

    @Test
    void batchesAreOneHotNextCharacterPairsAndReproducible() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) sb.append("abcdefgh".charAt(i % 8));
        CharCorpus c = new CharCorpus(sb.toString(), 0.2);
        DataSet d = c.batch(4, 10, false, new Random(1));
        assertArrayEquals(new long[]{4, 8, 10}, d.getFeatures().shape());
        assertArrayEquals(new long[]{4, 8, 10}, d.getLabels().shape());
        assertEquals(40.0, d.getFeatures().sumNumber().doubleValue(), "one hot per position");
        for (int b = 0; b < 4; b++) {
            for (int t = 0; t < 10; t++) {
                int in = d.getFeatures().get(org.nd4j.linalg.indexing.NDArrayIndex.point(b), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(t)).argMax().getInt(0);
                int out = d.getLabels().get(org.nd4j.linalg.indexing.NDArrayIndex.point(b), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(t)).argMax().getInt(0);
                assertEquals((in + 1) % 8, out, "label is the next character");
            }
        }
        assertEquals(d.getFeatures(), c.batch(4, 10, false, new Random(1)).getFeatures());
        assertThrows(IllegalArgumentException.class, () -> c.batch(2, 500, true, new Random(1)));
        assertThrows(IllegalArgumentException.class, () -> new CharCorpus("too short", 0.1));
        assertEquals(CharCorpus.OTHER, CharCorpus.normalize('\u00e9'));
    }
}
