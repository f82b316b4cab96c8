package org.bnb4j.examples.lm;

import org.bnb4j.optim.OptimKind;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleFunction;

/**
 * Updater names accepted on the command line: DL4J's own updaters, then every 8-bit optimizer under
 * its config class's name in lower case ("adam8bit", "sgd8bit", ...), taken from {@link OptimKind}
 * so that a new optimizer is offered without an edit here, and "adam32bit" (Adam8bit's 32-bit twin).
 */
public final class Updaters {
    private Updaters() {}

    private static final Map<String, DoubleFunction<IUpdater>> BY_NAME = byName();

    /** In the order the help lists them. */
    public static final List<String> NAMES = List.copyOf(BY_NAME.keySet());

    private static Map<String, DoubleFunction<IUpdater>> byName() {
        Map<String, DoubleFunction<IUpdater>> m = new LinkedHashMap<>();
        m.put("adam", Adam::new);
        m.put("nesterovs", lr -> new Nesterovs(lr, 0.9));
        m.put("rmsprop", RmsProp::new);
        m.put("adagrad", AdaGrad::new);
        for (OptimKind k : OptimKind.values()) {
            // the name is the class's, so it is what users read in the README and the configs' javadoc
            String name = BlockwiseUpdaterConfig.forKind(k, 0).getClass().getSimpleName().toLowerCase(Locale.ROOT);
            m.put(name, lr -> BlockwiseUpdaterConfig.forKind(k, lr));
        }
        m.put("adam32bit", lr -> Adam8bit.builder().learningRate(lr).optimBits(32).build());
        return Collections.unmodifiableMap(m);
    }

    public static IUpdater create(String name, double lr) {
        DoubleFunction<IUpdater> f = BY_NAME.get(name.toLowerCase(Locale.ROOT));
        if (f == null) throw new IllegalArgumentException("unknown updater '" + name + "'; choose from " + String.join(", ", NAMES));
        return f.apply(lr);
    }

    /** {@link #NAMES} for picocli's {@code completionCandidates} (what ${COMPLETION-CANDIDATES} lists in the help). */
    public static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return NAMES.iterator();
        }
    }
}
