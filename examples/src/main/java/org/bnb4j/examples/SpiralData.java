package org.bnb4j.examples;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * A classification task with known structure: K interleaved noisy spiral arms in the plane (the
 * classic CS231n toy problem). Deterministic for a given seed; no download needed.
 */
public final class SpiralData {
    private SpiralData() {}

    public static DataSet generate(int classes, int pointsPerClass, double noise, long seed) {
        Random r = new Random(seed);
        int n = classes * pointsPerClass;
        float[][] x = new float[n][2];
        float[][] y = new float[n][classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < pointsPerClass; i++) {
                double radius = (double) i / pointsPerClass;
                double angle = c * 2 * Math.PI / classes + radius * 4.5 + r.nextGaussian() * noise;
                int row = c * pointsPerClass + i;
                x[row][0] = (float) (radius * Math.sin(angle));
                x[row][1] = (float) (radius * Math.cos(angle));
                y[row][c] = 1f;
            }
        }
        DataSet ds = new DataSet(Nd4j.createFromArray(x).castTo(DataType.FLOAT), Nd4j.createFromArray(y).castTo(DataType.FLOAT));
        ds.shuffle(seed);
        return ds;
    }
}
