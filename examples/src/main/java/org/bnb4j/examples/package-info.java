/** Runnable demos and benchmark mains. */
package org.bnb4j.examples;
