/**
 * A titled card that frames one part of the dashboard.
 *
 * @module
 */
import type { ComponentChildren, JSX } from "preact";

/** Props of {@link Panel}. */
export interface PanelProps {
  title: string;
  /** A short line under or beside the title (units, thresholds, scope). */
  subtitle?: ComponentChildren;
  /** Right-aligned content in the title row. */
  aside?: ComponentChildren;
  testId?: string;
  class?: string;
  children: ComponentChildren;
}

/** A titled card. */
export function Panel(p: PanelProps): JSX.Element {
  const id = p.testId ? `${p.testId}-title` : undefined;
  return (
    <section
      class={`panel ${p.class ?? ""}`}
      data-testid={p.testId}
      aria-labelledby={id}
    >
      <header class="panel-head">
        <div>
          <h2 id={id}>{p.title}</h2>
          {p.subtitle && <p class="panel-sub">{p.subtitle}</p>}
        </div>
        {p.aside && <div class="panel-aside">{p.aside}</div>}
      </header>
      {p.children}
    </section>
  );
}
