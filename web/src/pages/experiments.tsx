// Experiments: per prompt, by variant or by version, over a time range: each group's usages,
// outcomes, success rate and mean score with their 95% intervals, the difference to the control
// with its interval and p-value, the marks and warnings worded exactly as `prompts stats` words
// them (the same functions), and the usages and success rate per day as charts.
import { useLocation } from "preact-iso";
import {
  comparisonSetup,
  comparisonText,
  confidenceLevel,
  fixedText,
  intervalKind,
  intervalText,
  methodLine,
  percentText,
  reportWarnings,
  splitLine,
} from "../../../src/core/stats-format.js";
import { namePath, queryString, useApi } from "../api.js";
import { IntervalPlot, type IntervalRow } from "../components/interval-plot.js";
import { SeriesChart } from "../components/series-chart.js";
import { ErrorNote, Loading } from "../components/status.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { GroupStats, StatsReport } from "../types.js";

type PromptStats = StatsReport["prompts"][number];

export function ExperimentsPage({ name }: { name?: string }) {
  return name ? <Experiment name={name} /> : <ExperimentList />;
}

/** Every prompt with usage, with a link to its experiment (by variant where it has variants). */
function ExperimentList() {
  const state = useStore(live);
  const stats = useApi<StatsReport>("/v1/stats?by=variant", state.hash);
  if (!stats.data)
    return stats.state === "error" ? <ErrorNote error={stats.error} /> : <Loading what="usage" />;
  const prompts = stats.data.prompts;
  return (
    <section aria-labelledby="experiments-title">
      <h1 id="experiments-title">Experiments</h1>
      {stats.state === "error" && <ErrorNote error={stats.error} />}
      {prompts.length === 0 ? (
        <p>
          No usage recorded yet. Renders through <code>prompts serve</code> or a client log usage;
          outcomes reported for them make the statistics.
        </p>
      ) : (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Prompt</th>
                <th scope="col">Variants</th>
                <th scope="col" class="num">
                  Usages
                </th>
                <th scope="col" class="num">
                  Outcomes
                </th>
              </tr>
            </thead>
            <tbody>
              {prompts.map((prompt) => {
                const arms = prompt.groups.map((group) => group.key);
                const by = arms.length > 1 ? "variant" : "version";
                return (
                  <tr key={prompt.name}>
                    <th scope="row">
                      <a href={`/experiments/${namePath(prompt.name)}${queryString({ by })}`}>
                        {prompt.name}
                      </a>
                    </th>
                    <td>{arms.join(", ")}</td>
                    <td class="num">{sum(prompt, "usages")}</td>
                    <td class="num">{sum(prompt, "outcomes")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function sum(prompt: PromptStats, field: "usages" | "outcomes"): number {
  return prompt.groups.reduce((total, group) => total + group[field], 0);
}

/** `YYYY-MM-DD`, or "" for anything else (a hand-edited URL). */
function dateOnly(value: string | undefined): string {
  return value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : "";
}

function Experiment({ name }: { name: string }) {
  const state = useStore(live);
  const { query, path, route } = useLocation();
  const by = query.by === "variant" ? "variant" : "version";
  const since = dateOnly(query.since);
  const until = dateOnly(query.until);
  const change = (next: { by?: string; since?: string; until?: string }) =>
    route(`${path}${queryString({ by, since, until, ...next })}`, true);
  const statsPath = `/v1/stats${queryString({
    name,
    by,
    since,
    // A day is chosen: it is included to its end.
    until: until === "" ? "" : `${until}T23:59:59.999Z`,
    series: "day",
  })}`;
  const stats = useApi<StatsReport>(statsPath, state.hash);
  const report = stats.data;
  const prompt = report?.prompts.find((one) => one.name === name);
  return (
    <section aria-labelledby="experiment-title" class="experiment">
      <h1 id="experiment-title">
        Experiment: <a href={`/prompts/${namePath(name)}`}>{name}</a>
      </h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Compare by
          <select value={by} onChange={(event) => change({ by: event.currentTarget.value })}>
            <option value="variant">variant</option>
            <option value="version">version</option>
          </select>
        </label>
        <label>
          Since (UTC)
          <input
            type="date"
            value={since}
            onChange={(event) => change({ since: event.currentTarget.value })}
          />
        </label>
        <label>
          Until (UTC, inclusive)
          <input
            type="date"
            value={until}
            onChange={(event) => change({ until: event.currentTarget.value })}
          />
        </label>
      </form>
      {stats.state === "error" && <ErrorNote error={stats.error} />}
      {!report ? (
        stats.state === "loading" && <Loading what="the statistics" />
      ) : !prompt ? (
        <p>
          No usage of {name} recorded{since || until ? " in that period" : " yet"}.
        </p>
      ) : (
        <ExperimentReport report={report} prompt={prompt} />
      )}
    </section>
  );
}

function ExperimentReport({ report, prompt }: { report: StatsReport; prompt: PromptStats }) {
  const split = splitLine(prompt);
  const warnings = reportWarnings({ ...report, prompts: [prompt] });
  return (
    <>
      <p class="muted method">{methodLine(report)}</p>
      <p class="muted">
        {comparisonSetup(report, prompt)}
        {/* The CLI names the correction only where it applies; the page always says which. */}
        {prompt.comparisons <= 1 &&
          `; correction: ${report.correction === "holm" ? "Holm" : "none"} (applies from 2 comparisons)`}
      </p>
      {split && <p class={`split tone-${split.tone}`}>{split.text}</p>}
      {warnings.length > 0 && (
        <ul class="warnings" aria-label="Warnings">
          {warnings.map((warning) => (
            <li key={warning}>
              <strong>warning:</strong> {warning}
            </li>
          ))}
        </ul>
      )}
      <GroupsTable report={report} prompt={prompt} />
      <IntervalPlots report={report} prompt={prompt} />
      <DailyCharts groups={prompt.groups} />
    </>
  );
}

/** The groups' numbers, as the table of `prompts stats`. */
function GroupsTable({ report, prompt }: { report: StatsReport; prompt: PromptStats }) {
  const level = confidenceLevel(report);
  const kind = intervalKind(report);
  const groups = prompt.groups;
  return (
    <div class="table-scroll">
      <table class="groups stack">
        <thead>
          <tr>
            <th scope="col">{report.by}</th>
            <th scope="col" class="num">
              Usages
            </th>
            <th scope="col" class="num">
              Outcomes
            </th>
            <th scope="col">
              Success ({level} {kind})
            </th>
            <th scope="col">
              Score ({level} {kind})
            </th>
            <th scope="col">Vs control</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.key}>
              <th scope="row" class="mono">
                {group.key}
              </th>
              <td class="num" data-label="Usages">
                {group.usages}
              </td>
              <td class="num" data-label="Outcomes">
                {group.outcomes}
              </td>
              <td class="mono" data-label={`Success (${level} ${kind})`}>
                {successText(group)}
              </td>
              <td class="mono" data-label={`Score (${level} ${kind})`}>
                {scoreText(group)}
              </td>
              <td class="mono" data-label="Vs control">
                {group.key === prompt.control ? (
                  <span class="muted">control</span>
                ) : (
                  <VersusCell group={group} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Each group's estimates and its differences to the control, drawn with their intervals. */
function IntervalPlots({ report, prompt }: { report: StatsReport; prompt: PromptStats }) {
  const level = confidenceLevel(report);
  const kind = intervalKind(report);
  const groups = prompt.groups;
  const others = groups.filter((group) => group.key !== prompt.control);
  const successVersus = others.map((group) => ({
    group,
    text: comparisonText("success", group.vsControl?.success, true),
  }));
  const scoreVersus = others.map((group) => ({
    group,
    text: comparisonText("score", group.vsControl?.score, false),
  }));
  return (
    <div class="interval-plots">
      <IntervalPlot
        title={`Success rate, ${level} ${kind}`}
        rows={groups.map((group) => ({
          key: group.key,
          estimate: group.success.rate,
          interval: group.success.ci95,
          text: successText(group),
        }))}
        format={(value) => `${Math.round(value * 100)}%`}
        clamp={[0, 1]}
      />
      <IntervalPlot
        title={`Mean score, ${level} ${kind}`}
        rows={groups.map((group) => ({
          key: group.key,
          estimate: group.score.mean,
          interval: group.score.ci95,
          text: scoreText(group),
        }))}
        format={(value) => value.toFixed(2)}
      />
      {others.length > 0 && (
        <>
          <IntervalPlot
            title={`Success rate: difference to ${prompt.control ?? "control"}`}
            rows={successVersus.map(({ group, text }) => versusRow(group, "success", text))}
            format={(value) => `${value > 0 ? "+" : ""}${Math.round(value * 100)} pts`}
            reference={0}
            referenceLabel="no difference"
          />
          <IntervalPlot
            title={`Mean score: difference to ${prompt.control ?? "control"}`}
            rows={scoreVersus.map(({ group, text }) => versusRow(group, "score", text))}
            format={(value) => `${value > 0 ? "+" : ""}${value.toFixed(2)}`}
            reference={0}
            referenceLabel="no difference"
          />
        </>
      )}
    </div>
  );
}

function successText(group: GroupStats): string {
  return group.success.rate === null
    ? "-"
    : `${percentText(group.success.rate)} ${intervalText(group.success.ci95, 1, true)}`;
}

function scoreText(group: GroupStats): string {
  return group.score.mean === null
    ? "-"
    : `${fixedText(group.score.mean, 3)} ${intervalText(group.score.ci95, 3)}`;
}

function versusRow(
  group: GroupStats,
  metric: "success" | "score",
  text: ReturnType<typeof comparisonText>,
): IntervalRow {
  const value = group.vsControl?.[metric] ?? null;
  return {
    key: group.key,
    estimate: value?.diff ?? null,
    interval: value?.ci95 ?? null,
    text: text?.text ?? "-",
    tone: text?.tone ?? "plain",
  };
}

/** The comparisons of one group with the control, worded and marked as `prompts stats` does. */
function VersusCell({ group }: { group: GroupStats }) {
  const parts = [
    comparisonText("score", group.vsControl?.score, false),
    comparisonText("success", group.vsControl?.success, true),
  ].filter((part) => part !== undefined);
  if (parts.length === 0) return <>-</>;
  return (
    <>
      {parts.map((part, index) => (
        <span key={part.text} class={`versus tone-${part.tone}`}>
          {index > 0 && "; "}
          {part.text}
        </span>
      ))}
    </>
  );
}

/** Usages and success rate per day, one line per group, and the same numbers as a table. */
function DailyCharts({ groups }: { groups: GroupStats[] }) {
  const withSeries = groups.filter((group) => group.series && group.series.length > 0);
  if (withSeries.length === 0) return null;
  const days = (withSeries[0]?.series ?? []).map((point) => point.date);
  const byDay = withSeries.map((group) => new Map(group.series?.map((p) => [p.date, p])));
  const usages = withSeries.map((group, index) => ({
    label: group.key,
    values: days.map((day) => byDay[index]?.get(day)?.usages ?? 0),
  }));
  const success = withSeries.map((group, index) => ({
    label: group.key,
    values: days.map((day) => {
      const point = byDay[index]?.get(day);
      return point && point.successes + point.failures > 0
        ? point.successes / (point.successes + point.failures)
        : null;
    }),
  }));
  return (
    <section class="daily" aria-labelledby="daily-title">
      <h2 id="daily-title">Over time</h2>
      <SeriesChart
        title="Usages per day"
        yLabel="usages"
        days={days}
        series={usages}
        format={(value) => String(Math.round(value))}
      />
      <SeriesChart
        title="Success rate per day"
        yLabel="success rate"
        days={days}
        series={success}
        format={(value) => `${Math.round(value * 100)}%`}
        range={[0, 1]}
      />
      <details>
        <summary>The numbers per day (table)</summary>
        <div class="table-scroll">
          <table class="daily-table">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {withSeries.map((group) => (
                  <th scope="col" class="num" key={`u-${group.key}`}>
                    {group.key} usages
                  </th>
                ))}
                {withSeries.map((group) => (
                  <th scope="col" class="num" key={`s-${group.key}`}>
                    {group.key} success
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((day, dayIndex) => (
                <tr key={day}>
                  <th scope="row" class="mono">
                    {day}
                  </th>
                  {usages.map((line) => (
                    <td class="num" key={`u-${line.label}`}>
                      {line.values[dayIndex]}
                    </td>
                  ))}
                  {success.map((line) => {
                    const value = line.values[dayIndex];
                    return (
                      <td class="num" key={`s-${line.label}`}>
                        {value === null || value === undefined ? "–" : percentText(value)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}
