package org.bnb4j.examples.lm;

import org.bnb4j.updaters.config.AdEMAMix8bit;
import org.bnb4j.updaters.config.Adagrad8bit;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.updaters.config.RMSprop8bit;
import org.bnb4j.updaters.config.SGD8bit;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;

import java.util.List;
import java.util.Locale;

/** Updater names accepted on the command line. */
public final class Updaters {
    private Updaters() {}

    public static final List<String> NAMES = List.of("adam", "adam8bit", "adam32bit", "nesterovs", "sgd8bit", "rmsprop",
            "rmsprop8bit", "adagrad", "adagrad8bit", "lion8bit", "ademamix8bit");

    public static IUpdater create(String name, double lr) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "adam": return new Adam(lr);
            case "adam8bit": return new Adam8bit(lr);
            case "adam32bit": return Adam8bit.builder().learningRate(lr).optimBits(32).build();
            case "nesterovs": return new Nesterovs(lr, 0.9);
            case "sgd8bit": return new SGD8bit(lr, 0.9);
            case "rmsprop": return new RmsProp(lr);
            case "rmsprop8bit": return new RMSprop8bit(lr);
            case "adagrad": return new AdaGrad(lr);
            case "adagrad8bit": return new Adagrad8bit(lr);
            case "lion8bit": return new Lion8bit(lr);
            case "ademamix8bit": return new AdEMAMix8bit(lr);
            default:
                throw new IllegalArgumentException("unknown updater '" + name + "'; choose from " + String.join(", ", NAMES));
        }
    }
}
