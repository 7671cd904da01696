/**
 * A small SVG bar chart of the scenarios' message rates (a standalone
 * file, no scripts, no external fonts).
 *
 * @module
 */
import { round, type ScenarioResult } from "./results.ts";

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders horizontal bars of msgs/s for every scenario that measured a rate. */
export function renderRatesSvg(
  results: ScenarioResult[],
  title = "Lagermeister bench: msgs/s",
): string {
  const bars = results.filter((r) => r.status === "ok" && (r.msgs_per_s ?? 0) > 0);
  const max = Math.max(1, ...bars.map((r) => r.msgs_per_s!));
  const rowH = 28;
  const left = 120;
  const width = 720;
  const barMax = width - left - 110;
  const height = 50 + bars.length * rowH + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  bars.forEach((r, i) => {
    const y = 40 + i * rowH;
    const w = Math.max(1, (r.msgs_per_s! / max) * barMax);
    const failed = r.targets.some((t) => !t.pass);
    const color = r.scenario === "baseline" ? "#888888" : failed ? "#d9534f" : "#3c8dbc";
    out.push(
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escapeXml(r.scenario)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${
        rowH - 8
      }" fill="${color}"/>`,
      `<text x="${left + w + 6}" y="${y + 17}">${round(r.msgs_per_s)}${
        r.ratio_to_baseline !== undefined && r.scenario !== "baseline"
          ? ` (${round(r.ratio_to_baseline)}x)`
          : ""
      }</text>`,
    );
  });
  out.push(
    `<text x="${left}" y="${height - 12}" font-size="11" fill="#555555">` +
      "grey: bare JetStream publisher (ceiling); blue: targets met; red: a target missed</text>",
  );
  out.push("</svg>");
  return out.join("\n") + "\n";
}
